import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { startTestS3, type TestS3 } from '../fixtures/s3-server.js';
import { expectOneWholeObject, hashOf, html, png, sha256 } from '../fixtures/storage-files.js';
import { useTestServer } from '../fixtures/test-server.js';

// Storage on the S3-compatible driver, end to end: a real S3-compatible server (s3rver, in a
// child process) holds the bytes; browsers' uploads go to it directly (a POST policy, presigned
// part URLs) and the Plinth server checks them there before they become objects. Every refusal
// is a 4xx naming what was wrong and leaves nothing visible.

let s3: TestS3 | undefined;
beforeAll(async () => {
  s3 = await startTestS3();
}, 30_000);
afterAll(async () => {
  await s3?.close();
});
const testS3 = () => s3 as TestS3;
// Under `pnpm test:faults` the S3 server is killed and started again (same port, same bytes)
// before every test, so the whole suite runs across restarts: nothing the server holds about S3
// (connections, a failure) may outlive one.
if (process.env.PLINTH_FAULTS === '1') {
  beforeEach(async () => {
    await testS3().stop();
    await testS3().start();
  });
}

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer(() => ({
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
  s3: {
    endpoint: testS3().endpoint,
    region: testS3().region,
    bucket: testS3().bucket,
    accessKeyId: testS3().accessKeyId,
    secretAccessKey: testS3().secretAccessKey,
    prefix: 'plinth/',
  },
}));
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });

let bucketCount = 0;
async function makeBucket(body: Record<string, unknown> = {}): Promise<string> {
  const name = `s3-bucket-${++bucketCount}-${Date.now().toString(36)}`;
  const made = await call('POST', '/v1/storage/buckets', { name, ...body }, asService());
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  return name;
}

interface FormGrant {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  fields: Record<string, string>;
  completeUrl: string;
  expiresAt: string;
  uploadId: string;
}

async function grant(bucket: string, body: Record<string, unknown>): Promise<FormGrant> {
  const answer = await call('POST', `/v1/storage/buckets/${bucket}/upload-urls`, body, asService());
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as FormGrant;
}

/** The browser's half: the form upload to the storage service, `file` last. */
async function postForm(made: FormGrant, bytes: Buffer, contentType = 'application/octet-stream') {
  const form = new FormData();
  for (const [name, value] of Object.entries(made.fields)) form.append(name, value);
  if (!('Content-Type' in made.fields)) form.append('Content-Type', contentType);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }));
  const response = await fetch(made.url, { method: 'POST', body: form });
  await response.arrayBuffer();
  return response.status;
}

async function send(url: string, method: string, body?: Buffer | Record<string, unknown>) {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : Buffer.isBuffer(body)
        ? { body: new Uint8Array(body) }
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  // JSON.parse's own type: the tests read whatever the answer holds.
  let parsed: ReturnType<typeof JSON.parse>;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return {
    status: response.status,
    body: parsed,
    etag: response.headers.get('etag'),
  };
}

const complete = (made: FormGrant, sent?: { size?: number; sha256?: string }) => send(made.completeUrl, 'POST', sent);
const info = (bucket: string, key: string) =>
  call('GET', `/v1/storage/buckets/${bucket}/object?key=${encodeURIComponent(key)}`, undefined, asService());

/** What the storage service holds under the staging key of an upload. */
const staged = (uploadId: string) => server().services.storage.driver.read(`.staging/${uploadId}`);

async function events(type: string, bucket: string) {
  const rows = await server().services.database.query<{ payload: string }>(
    'SELECT payload::text AS payload FROM plinth.events WHERE type = $1 AND channel = $2 ORDER BY id',
    [type, `storage:${bucket}`],
  );
  return rows.map((row) => JSON.parse(row.payload) as { object: { key: string; sha256: string } });
}

describe('form uploads to S3', () => {
  it('grant a POST policy for the staging key, and commit checked bytes on completion', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png', 'text/plain'] });
    const userId = '00000000-0000-4000-8000-000000000001';
    const made = await grant(bucket, { key: 'me.png', contentTypes: ['image/png'], userId, metadata: { a: 'b' } });
    expect(made.method).toBe('POST');
    expect(made.url).toBe(`${testS3().endpoint}/${testS3().bucket}`);
    expect(made.fields.key).toBe(`plinth/.staging/${made.uploadId}`);
    expect(made.fields['Content-Type']).toBe('image/png');
    const policy = JSON.parse(Buffer.from(made.fields.Policy as string, 'base64').toString('utf8'));
    expect(policy.conditions).toContainEqual(['content-length-range', 0, 52_428_800]);
    expect(policy.conditions).toContainEqual(['eq', '$key', made.fields.key]);
    expect(Date.parse(policy.expiration)).toBe(Date.parse(made.expiresAt));

    expect([200, 201, 204]).toContain(await postForm(made, png, 'image/png'));
    // Not an object until the server checked it.
    expect((await info(bucket, 'me.png')).status).toBe(404);
    const done = await complete(made);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body?.object).toMatchObject({
      bucket,
      key: 'me.png',
      size: png.length,
      contentType: 'image/png',
      sha256: sha256(png),
      owner: userId,
      metadata: { a: 'b' },
    });
    expect((await info(bucket, 'me.png')).body?.object.sha256).toBe(sha256(png));
    expect((await events('object.created', bucket)).map((event) => event.object.key)).toEqual(['me.png']);
    // Copied into place: the staging key is gone, so the policy (still valid) writes nothing that is read.
    expect(await staged(made.uploadId)).toBeUndefined();
    const [row] = await server().services.database.query<{ blob: string }>(
      'SELECT blob FROM plinth.storage_objects WHERE bucket = $1 AND key = $2',
      [bucket, 'me.png'],
    );
    expect(await hashOf(await server().services.storage.driver.read(row?.blob as string))).toBe(sha256(png));
  });

  it('leave the type open in the policy when the grant allows several, and check it on completion', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png', 'text/plain'] });
    const made = await grant(bucket, { key: 'any.txt' });
    expect(made.fields['Content-Type']).toBeUndefined();
    const policy = JSON.parse(Buffer.from(made.fields.Policy as string, 'base64').toString('utf8'));
    expect(policy.conditions).toContainEqual(['starts-with', '$Content-Type', '']);
    await postForm(made, Buffer.from('plain words'), 'text/plain');
    expect((await complete(made)).body?.object.contentType).toBe('text/plain');

    const other = await grant(bucket, { key: 'other.bin' });
    await postForm(other, Buffer.from('plain words'), 'application/pdf');
    const refused = await complete(other);
    expect(refused.status).toBe(400);
    expect(refused.body?.error.details.field).toBe('content-type');
    expect((await info(bucket, 'other.bin')).status).toBe(404);
  });

  it('refuse a completion used twice, and one before any bytes arrived (the grant still works after)', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'once.bin' });
    const early = await complete(made);
    expect(early.status).toBe(409);
    expect(early.body?.error.message).toMatch(/Nothing was uploaded/);
    await postForm(made, Buffer.alloc(1000, 1));
    expect((await complete(made)).status).toBe(200);
    const again = await complete(made);
    expect(again.status).toBe(403);
    expect(again.body?.error.message).toMatch(/already used/);
    // Bytes sent again with the still-valid policy never replace the committed object.
    await postForm(made, Buffer.alloc(1000, 9));
    expect((await complete(made)).status).toBe(403);
    expect((await info(bucket, 'once.bin')).body?.object.sha256).toBe(sha256(Buffer.alloc(1000, 1)));
  });

  it('refuse a completion URL whose signature was changed, or that expired', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'tampered.bin', expiresIn: 1 });
    await postForm(made, Buffer.alloc(100, 1));
    const url = new URL(made.completeUrl);
    url.searchParams.set('signature', `${(url.searchParams.get('signature') as string).slice(0, -2)}AA`);
    expect((await send(url.href, 'POST')).status).toBe(403);
    const otherId = new URL(made.completeUrl);
    otherId.pathname = otherId.pathname.replace(made.uploadId, '00000000-0000-4000-8000-000000000000');
    expect((await send(otherId.href, 'POST')).status).toBe(403);
    const unsigned = new URL(made.completeUrl);
    unsigned.search = '';
    expect((await send(unsigned.href, 'POST')).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await complete(made);
    expect(expired.status).toBe(403);
    expect((await info(bucket, 'tampered.bin')).status).toBe(404);
  });

  it('refuse bytes over the grant’s size or under its minimum, and remove them', async () => {
    const bucket = await makeBucket();
    // The test service (s3rver) does not enforce POST policies, so these bytes land: the
    // completion's check is what refuses them (on AWS S3 the POST itself is refused).
    const big = await grant(bucket, { key: 'big.bin', maxBytes: 1000 });
    await postForm(big, Buffer.alloc(1001, 1));
    const refused = await complete(big);
    expect(refused.status).toBe(413);
    expect(refused.body?.error.details).toMatchObject({ field: 'body', limit: 1000 });
    expect(await staged(big.uploadId)).toBeUndefined();
    expect((await info(bucket, 'big.bin')).status).toBe(404);
    expect((await complete(big)).status).toBe(403);

    const small = await grant(bucket, { key: 'small.bin', minBytes: 10 });
    await postForm(small, Buffer.alloc(9, 1));
    const short = await complete(small);
    expect(short.status).toBe(400);
    expect(short.body?.error.details.field).toBe('body');
    expect((await info(bucket, 'small.bin')).status).toBe(404);
  });

  it('refuse a grant over 5 GiB, the most one S3 copy moves into place', async () => {
    const bucket = await makeBucket({ maxObjectBytes: 6 * 1024 ** 3 });
    for (const path of ['upload-urls', 'multipart-uploads']) {
      const refused = await call(
        'POST',
        `/v1/storage/buckets/${bucket}/${path}`,
        {
          key: 'huge.bin',
          maxBytes: 5 * 1024 ** 3 + 1,
          ...(path === 'upload-urls' ? {} : { partSize: 64 * 1024 ** 2 }),
        },
        asService(),
      );
      expect(refused.status, path).toBe(400);
      expect(refused.body?.error.details.field).toBe('maxBytes');
    }
    // A bucket's own larger limit is what a grant defaults to: refused the same way.
    const byDefault = await call('POST', `/v1/storage/buckets/${bucket}/upload-urls`, { key: 'x.bin' }, asService());
    expect(byDefault.status).toBe(400);
    expect((await grant(bucket, { key: 'x.bin', maxBytes: 5 * 1024 ** 3 })).method).toBe('POST');
  });

  it('refuse bytes that are not what they are declared (HTML as an image), and keep nothing', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'fake.png', contentTypes: ['image/png'] });
    await postForm(made, html, 'image/png');
    const refused = await complete(made);
    expect(refused.status).toBe(400);
    expect(refused.body?.error.details).toMatchObject({
      field: 'content-type',
      declared: 'image/png',
      sniffed: 'text/html',
    });
    expect(await staged(made.uploadId)).toBeUndefined();
    expect(await events('object.created', bucket)).toEqual([]);
  });

  it('leave nothing visible when the form upload is cut half-way, and the grant still works after', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'cut.bin' });
    const boundary = 'plinth-test-boundary';
    const head = Buffer.from(
      [...Object.entries(made.fields), ['Content-Type', 'application/octet-stream']]
        .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
        .join('') +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    await new Promise<void>((resolve) => {
      const request = httpRequest(made.url, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(head.length + 200_000),
        },
      });
      request.on('error', () => resolve());
      request.on('response', () => resolve());
      request.write(Buffer.concat([head, Buffer.alloc(100_000, 2)]), () =>
        setTimeout(() => {
          request.destroy();
          resolve();
        }, 100),
      );
    });
    // AWS S3 keeps nothing of a cut form upload; the test service (s3rver) keeps the bytes that
    // arrived, so the size the uploader sent with the completion is what tells them apart.
    const early = await complete(made, { size: 200_000 });
    expect(early.status, JSON.stringify(early.body)).toBe(409);
    expect(early.body?.error.details.field).toBe('size');
    expect((await info(bucket, 'cut.bin')).status).toBe(404);
    expect(await staged(made.uploadId)).toBeUndefined();
    const whole = Buffer.alloc(200_000, 3);
    await postForm(made, whole);
    expect((await complete(made, { size: whole.length, sha256: sha256(whole) })).body?.object.sha256).toBe(
      sha256(whole),
    );
  });

  it('end concurrent uploads to one key with one whole object', async () => {
    const bucket = await makeBucket();
    const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(100_000 + i, i + 1));
    const grants = await Promise.all(bodies.map(() => grant(bucket, { key: 'race.bin' })));
    await Promise.all(grants.map((made, i) => postForm(made, bodies[i] as Buffer)));
    const answers = await Promise.all(grants.map((made) => complete(made)));
    expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 200));
    await expectOneWholeObject(
      server(),
      bucket,
      'race.bin',
      bodies,
      grants.map((made) => made.uploadId),
    );
  });

  it('the sweep removes staged bytes nobody completed, and only once they are old', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'left.bin' });
    const bytes = Buffer.alloc(100, 1);
    await postForm(made, bytes);
    const { driver } = server().services.storage;
    await driver.sweepStaging(60 * 60 * 1000);
    expect(await hashOf(await staged(made.uploadId))).toBe(sha256(bytes));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await driver.sweepStaging(0)).toBeGreaterThanOrEqual(1);
    expect(await staged(made.uploadId)).toBeUndefined();
  });

  it('refuse a PUT to the Plinth server for a grant on S3', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'put.bin' });
    // Plinth signed no PUT URL for this upload: the guard refuses it before anything is read.
    const url = new URL(made.completeUrl);
    url.pathname = url.pathname.replace(/\/complete$/, '');
    expect((await send(url.href, 'PUT', Buffer.alloc(10, 1))).status).toBe(403);
  });
});

describe('objects on S3', () => {
  it('download whole, by range and not again when unchanged; list, move, copy and remove', async () => {
    const bucket = await makeBucket({ public: true });
    const bytes = Buffer.from('0123456789abcdefghij');
    const made = await grant(bucket, { key: 'docs/a.txt' });
    await postForm(made, bytes, 'text/plain');
    const object = (await complete(made)).body?.object;

    const link = await call('POST', `/v1/storage/buckets/${bucket}/download-urls`, { key: 'docs/a.txt' }, asService());
    const whole = await fetch(link.body?.url);
    expect(Buffer.from(await whole.arrayBuffer()).toString()).toBe(bytes.toString());
    const ranged = await fetch(link.body?.url, { headers: { range: 'bytes=2-5' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('2345');
    expect((await fetch(link.body?.url, { headers: { 'if-none-match': object.etag } })).status).toBe(304);
    const publicly = await fetch(`${server().url}/v1/storage/public/${bucket}?key=docs/a.txt`);
    expect(await publicly.text()).toBe(bytes.toString());

    const listed = await call('GET', `/v1/storage/buckets/${bucket}/objects?delimiter=/`, undefined, asService());
    expect(listed.body?.prefixes).toEqual(['docs/']);

    const moved = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/move`,
      { from: 'docs/a.txt', to: 'b.txt' },
      asService(),
    );
    expect(moved.status).toBe(200);
    const copied = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/copy`,
      { from: 'b.txt', to: 'c.txt' },
      asService(),
    );
    expect(copied.status).toBe(200);
    const removed = await call('POST', `/v1/storage/buckets/${bucket}/remove`, { keys: ['b.txt'] }, asService());
    expect(removed.body?.removed).toEqual(['b.txt']);
    // The copy has bytes of its own on S3: removing the original left them whole.
    const [row] = await server().services.database.query<{ blob: string }>(
      'SELECT blob FROM plinth.storage_objects WHERE bucket = $1 AND key = $2',
      [bucket, 'c.txt'],
    );
    expect(await hashOf(await server().services.storage.driver.read(row?.blob as string))).toBe(sha256(bytes));
    expect(await server().services.storage.driver.read(`${bucket}/${made.uploadId}`)).toBeUndefined();
  });
});

interface MultipartGrant {
  url: string;
  uploadId: string;
  partSize: number;
}

const partSize = 5 * 1024 * 1024;
const at = (made: MultipartGrant, suffix: string) => {
  const url = new URL(made.url);
  return `${url.origin}${url.pathname}${suffix}${url.search}`;
};

async function startMultipart(body: Record<string, unknown> = {}) {
  const bucket = await makeBucket({ maxObjectBytes: 100 * 1024 * 1024 });
  const made = await call(
    'POST',
    `/v1/storage/buckets/${bucket}/multipart-uploads`,
    { key: 'big.bin', partSize, ...body },
    asService(),
  );
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  return { bucket, made: made.body as MultipartGrant };
}

async function partUrl(made: MultipartGrant, n: number): Promise<string> {
  const answer = await send(at(made, '/part-urls'), 'POST', { parts: [n] });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body?.parts[0].url;
}

const file = Buffer.concat([Buffer.alloc(partSize, 1), Buffer.alloc(partSize, 2), Buffer.alloc(10_000, 3)]);
const pieces = [file.subarray(0, partSize), file.subarray(partSize, 2 * partSize), file.subarray(2 * partSize)];

describe('multipart uploads on S3', () => {
  it('send parts straight to the storage service and join them natively into one checked object', async () => {
    const { bucket, made } = await startMultipart();
    const urls = await send(at(made, '/part-urls'), 'POST', { parts: [1, 2, 3] });
    expect(urls.body?.parts.map((part: { partNumber: number }) => part.partNumber)).toEqual([1, 2, 3]);
    for (const part of urls.body?.parts ?? []) {
      expect(part.url.startsWith(`${testS3().endpoint}/${testS3().bucket}/plinth/.staging/${made.uploadId}?`)).toBe(
        true,
      );
      expect(new URL(part.url).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    }
    const sent = await Promise.all(
      [3, 1, 2].map((n) => send(urls.body?.parts[n - 1].url, 'PUT', pieces[n - 1] as Buffer)),
    );
    expect(sent.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const listed = await send(at(made, '/parts'), 'GET');
    expect(listed.body?.parts).toEqual([
      { partNumber: 1, size: partSize },
      { partNumber: 2, size: partSize },
      { partNumber: 3, size: 10_000 },
    ]);
    const done = await send(at(made, '/complete'), 'POST', {
      contentType: 'application/octet-stream',
      parts: 3,
      sha256: sha256(file),
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body?.object).toMatchObject({ size: file.length, sha256: sha256(file) });
    expect((await info(bucket, 'big.bin')).body?.object.sha256).toBe(sha256(file));
    expect(await staged(made.uploadId)).toBeUndefined();
    expect((await send(at(made, '/parts'), 'GET')).body?.parts).toEqual([]);
  });

  it('resume after a part is cut half-way: the list of parts says what to send again', async () => {
    const { bucket, made } = await startMultipart();
    expect((await send(await partUrl(made, 1), 'PUT', pieces[0] as Buffer)).status).toBe(200);
    const cutUrl = await partUrl(made, 2);
    await new Promise<void>((resolve) => {
      const request = httpRequest(cutUrl, { method: 'PUT', headers: { 'content-length': String(partSize) } });
      request.on('error', () => resolve());
      request.on('response', () => resolve());
      request.write(Buffer.alloc(1024 * 1024, 2), () =>
        setTimeout(() => {
          request.destroy();
          resolve();
        }, 100),
      );
    });
    // What a reloaded page does: ask which parts the upload has, send the rest.
    const listed = await send(at(made, '/parts'), 'GET');
    const whole = (listed.body.parts as { partNumber: number; size: number }[]).filter(
      (part) => part.size === partSize,
    );
    expect(whole.map((part) => part.partNumber)).toEqual([1]);
    for (const n of [2, 3])
      expect((await send(await partUrl(made, n), 'PUT', pieces[n - 1] as Buffer)).status).toBe(200);
    const done = await send(at(made, '/complete'), 'POST', { contentType: 'application/octet-stream', parts: 3 });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((await info(bucket, 'big.bin')).body?.object.sha256).toBe(sha256(file));
  });

  it('refuse parts smaller than S3 takes, missing or short parts, and a wrong checksum', async () => {
    const bucket = await makeBucket();
    const small = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/multipart-uploads`,
      { key: 'x.bin', partSize: 1024 * 1024 },
      asService(),
    );
    expect(small.status).toBe(400);
    expect(small.body?.error.details.field).toBe('partSize');

    const { bucket: other, made } = await startMultipart();
    await send(await partUrl(made, 1), 'PUT', pieces[0] as Buffer);
    await send(await partUrl(made, 3), 'PUT', pieces[2] as Buffer);
    const missing = await send(at(made, '/complete'), 'POST', { contentType: 'application/octet-stream', parts: 3 });
    expect(missing.status).toBe(400);
    expect(missing.body?.error.details).toMatchObject({ field: 'parts', missing: [2] });
    await send(await partUrl(made, 2), 'PUT', Buffer.alloc(1000, 2));
    const short = await send(at(made, '/complete'), 'POST', { contentType: 'application/octet-stream', parts: 3 });
    expect(short.status).toBe(400);
    expect(short.body?.error.details).toMatchObject({ field: 'parts', partNumber: 2 });
    await send(await partUrl(made, 2), 'PUT', pieces[1] as Buffer);
    const wrongSum = await send(at(made, '/complete'), 'POST', {
      contentType: 'application/octet-stream',
      parts: 3,
      sha256: sha256(Buffer.from('other')),
    });
    expect(wrongSum.status).toBe(400);
    expect(wrongSum.body?.error.details.field).toBe('content-digest');
    expect((await info(other, 'big.bin')).status).toBe(404);
    expect(await staged(made.uploadId)).toBeUndefined();
  });

  it('abort: the native upload goes and the URL takes nothing more; a part PUT to Plinth is refused', async () => {
    const { made } = await startMultipart();
    await send(await partUrl(made, 1), 'PUT', pieces[0] as Buffer);
    const local = await send(at(made, '/parts/1'), 'PUT', Buffer.alloc(10, 1));
    expect(local.status).toBe(409);
    expect(local.body?.error.message).toMatch(/S3/);
    expect((await send(at(made, ''), 'DELETE')).body).toEqual({ aborted: true });
    const [row] = await server().services.database.query<{ driver_upload_id: string }>(
      'SELECT driver_upload_id FROM plinth.storage_uploads WHERE id = $1',
      [made.uploadId],
    );
    const { driver } = server().services.storage;
    if (driver.kind !== 's3') throw new Error('expected the S3 driver');
    expect(await driver.listParts(driver.stagingKey(made.uploadId), row?.driver_upload_id as string)).toBeUndefined();
    expect((await send(at(made, '/part-urls'), 'POST', { parts: [2] })).status).toBe(403);
  });

  it('the sweep aborts native uploads of grants that expired unfinished', async () => {
    const { made } = await startMultipart();
    await send(await partUrl(made, 1), 'PUT', pieces[0] as Buffer);
    const [row] = await server().services.database.query<{ driver_upload_id: string }>(
      "UPDATE plinth.storage_uploads SET expires_at = now() - interval '2 hours' WHERE id = $1 RETURNING driver_upload_id",
      [made.uploadId],
    );
    const { driver } = server().services.storage;
    if (driver.kind !== 's3') throw new Error('expected the S3 driver');
    const key = driver.stagingKey(made.uploadId);
    expect(await driver.listParts(key, row?.driver_upload_id as string)).toHaveLength(1);
    await server().services.storage.sweep();
    expect(await driver.listParts(key, row?.driver_upload_id as string)).toBeUndefined();
  });
});
