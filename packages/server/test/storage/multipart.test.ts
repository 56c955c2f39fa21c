import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// Multipart uploads end to end: parts in any order and concurrently, a part cut half-way leaving
// nothing, resuming from the list of parts the server has, completion checked as a single upload
// is (sizes, checksum, sniffed type), abort, and every signed URL refused once changed.

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
});
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const partSize = 64 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface MultipartGrant {
  url: string;
  uploadId: string;
  partSize: number;
  expiresAt: string;
  contentTypes: string[];
}

let count = 0;
async function start(body: Record<string, unknown> = {}, bucketOptions: Record<string, unknown> = {}) {
  const bucket = `multi-${++count}-${Date.now().toString(36)}`;
  expect((await call('POST', '/v1/storage/buckets', { name: bucket, ...bucketOptions }, asService())).status).toBe(200);
  const made = await call(
    'POST',
    `/v1/storage/buckets/${bucket}/multipart-uploads`,
    { key: 'big.bin', partSize, ...body },
    asService(),
  );
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  return { bucket, grant: made.body as MultipartGrant };
}

/** `grant.url` with `suffix` after its path and its query kept. */
const at = (grant: MultipartGrant, suffix: string) => {
  const url = new URL(grant.url);
  return `${url.origin}${url.pathname}${suffix}${url.search}`;
};

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
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const putPart = (grant: MultipartGrant, n: number, bytes: Buffer) => send(at(grant, `/parts/${n}`), 'PUT', bytes);
const parts = (grant: MultipartGrant) => send(at(grant, '/parts'), 'GET');
const complete = (grant: MultipartGrant, body: Record<string, unknown>) => send(at(grant, '/complete'), 'POST', body);

const file = Buffer.concat([Buffer.alloc(partSize, 1), Buffer.alloc(partSize, 2), Buffer.alloc(10_000, 3)]);
const pieces = [file.subarray(0, partSize), file.subarray(partSize, 2 * partSize), file.subarray(2 * partSize)];

describe('multipart uploads', () => {
  it('take parts in any order, at once, and join them into one checked object', async () => {
    const { bucket, grant } = await start();
    expect(grant.partSize).toBe(partSize);
    const answers = await Promise.all([3, 1, 2].map((n) => putPart(grant, n, pieces[n - 1] as Buffer)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[0]?.body).toEqual({ partNumber: 3, size: 10_000, sha256: sha256(pieces[2] as Buffer) });
    const listed = await parts(grant);
    expect(listed.body).toMatchObject({ partSize, state: 'pending' });
    expect(listed.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2, 3]);
    const done = await complete(grant, { contentType: 'application/octet-stream', parts: 3, sha256: sha256(file) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.object).toMatchObject({ bucket, key: 'big.bin', size: file.length, sha256: sha256(file) });
    // The parts are gone once joined, and the URL takes nothing more.
    expect((await parts(grant)).body).toMatchObject({ parts: [], state: 'committed' });
    expect((await putPart(grant, 1, pieces[0] as Buffer)).status).toBe(403);
    expect((await complete(grant, { contentType: 'application/octet-stream', parts: 3 })).status).toBe(403);
    const { url } = (await call('POST', `/v1/storage/buckets/${bucket}/download-urls`, { key: 'big.bin' }, asService()))
      .body as { url: string };
    expect(sha256(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha256(file));
  });

  it('keep parts apart from objects: a bucket named multipart completes too', async () => {
    expect((await call('POST', '/v1/storage/buckets', { name: 'multipart' }, asService())).status).toBe(200);
    const made = await call(
      'POST',
      '/v1/storage/buckets/multipart/multipart-uploads',
      { key: 'big.bin', partSize },
      asService(),
    );
    const grant = made.body as MultipartGrant;
    for (const n of [1, 2, 3]) expect((await putPart(grant, n, pieces[n - 1] as Buffer)).status).toBe(200);
    const done = await complete(grant, { contentType: 'application/octet-stream', parts: 3 });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.object).toMatchObject({ bucket: 'multipart', sha256: sha256(file) });
  });

  it('ask part-urls for where each part goes: the upload’s own URL, extended', async () => {
    const { grant } = await start();
    const answer = await send(at(grant, '/part-urls'), 'POST', { parts: [2, 1, 2] });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.parts).toEqual([
      { partNumber: 2, url: at(grant, '/parts/2'), headers: {} },
      { partNumber: 1, url: at(grant, '/parts/1'), headers: {} },
    ]);
    expect((await send(answer.body.parts[1].url, 'PUT', pieces[0] as Buffer)).status).toBe(200);
    const tooFar = await send(at(grant, '/part-urls'), 'POST', { parts: [10_000] });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.error.details.field).toBe('parts');
    for (const bad of [[], [0], ['1'], Array.from({ length: 101 }, (_, i) => i + 1)]) {
      const refused = await send(at(grant, '/part-urls'), 'POST', { parts: bad });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.error.details.field).toMatch(/^parts/);
    }
    const missing = await send(at(grant, '/complete'), 'POST', { contentType: 'application/octet-stream', parts: 3 });
    expect(missing.body.error.details).toMatchObject({ field: 'parts', missing: [2, 3] });
  });

  it('resume after a part is cut half-way: nothing of it is kept, and it is sent again', async () => {
    const { grant } = await start();
    expect((await putPart(grant, 1, pieces[0] as Buffer)).status).toBe(200);
    await new Promise<void>((resolve) => {
      const request = httpRequest(at(grant, '/parts/2'), {
        method: 'PUT',
        headers: { 'content-length': String(partSize) },
      });
      request.on('error', () => resolve());
      request.on('response', () => resolve());
      request.write(Buffer.alloc(partSize / 2, 9), () =>
        setTimeout(() => {
          request.destroy();
          resolve();
        }, 50),
      );
    });
    // What a reloaded page learns from the upload id alone: which parts to send.
    await expect
      .poll(async () => (await parts(grant)).body.parts.map((p: { partNumber: number }) => p.partNumber))
      .toEqual([1]);
    const early = await complete(grant, { contentType: 'application/octet-stream', parts: 3 });
    expect(early.status).toBe(400);
    expect(early.body.error.details).toMatchObject({ field: 'parts', missing: [2, 3] });
    expect((await putPart(grant, 2, pieces[1] as Buffer)).status).toBe(200);
    expect((await putPart(grant, 3, pieces[2] as Buffer)).status).toBe(200);
    const done = await complete(grant, { contentType: 'application/octet-stream', parts: 3 });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.object.sha256).toBe(sha256(file));
  });

  it('replace a part sent again, and refuse a short part that is not the last until it is whole', async () => {
    const { grant } = await start();
    expect((await putPart(grant, 1, Buffer.alloc(100, 7))).status).toBe(200);
    expect((await putPart(grant, 2, pieces[1] as Buffer)).status).toBe(200);
    const short = await complete(grant, { contentType: 'application/octet-stream', parts: 2 });
    expect(short.status).toBe(400);
    expect(short.body.error.details).toMatchObject({ field: 'parts', partNumber: 1 });
    expect((await putPart(grant, 1, pieces[0] as Buffer)).status).toBe(200);
    const done = await complete(grant, { contentType: 'application/octet-stream', parts: 2 });
    expect(done.status).toBe(200);
    expect(done.body.object.sha256).toBe(sha256(file.subarray(0, 2 * partSize)));
  });

  it('refuse parts over the part size or past the last part, and bad part numbers', async () => {
    const { grant } = await start({ maxBytes: 3 * partSize });
    const over = await putPart(grant, 1, Buffer.alloc(partSize + 1));
    expect(over.status).toBe(413);
    expect(over.body.error.details).toMatchObject({ field: 'body', limit: partSize });
    expect((await putPart(grant, 4, Buffer.alloc(10))).status).toBe(400);
    for (const n of ['0', '-1', '1.5', 'x', '10001']) {
      const answer = await send(at(grant, `/parts/${n}`), 'PUT', Buffer.alloc(10));
      expect(answer.status, n).toBe(400);
      expect(answer.body.error.details.field).toBe('partNumber');
    }
    expect((await putPart(grant, 1, Buffer.alloc(0))).status).toBe(400);
  });

  it('check the joined bytes as one upload: type allowed and sniffed, checksum, size range', async () => {
    const html = Buffer.from('<!doctype html><script>alert(1)</script>');
    const typed = await start({ contentTypes: ['image/png'] }, { allowedContentTypes: ['image/png', 'text/plain'] });
    expect((await putPart(typed.grant, 1, html)).status).toBe(200);
    const wrongType = await complete(typed.grant, { contentType: 'text/plain', parts: 1 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details.field).toBe('contentType');
    const disguised = await complete(typed.grant, { contentType: 'image/png', parts: 1 });
    expect(disguised.status).toBe(400);
    expect(disguised.body.error.details).toMatchObject({ field: 'content-type', declared: 'image/png' });
    // Refused on its bytes: the upload is over, its parts dropped.
    expect((await parts(typed.grant)).body).toMatchObject({ parts: [], state: 'refused' });
    const checked = await start();
    expect((await putPart(checked.grant, 1, pieces[2] as Buffer)).status).toBe(200);
    const badSum = await complete(checked.grant, {
      contentType: 'application/octet-stream',
      parts: 1,
      sha256: '0'.repeat(64),
    });
    expect(badSum.status).toBe(400);
    expect(badSum.body.error.details.field).toBe('content-digest');
    const small = await start({ minBytes: 20_000 });
    expect((await putPart(small.grant, 1, pieces[2] as Buffer)).status).toBe(200);
    const tooSmall = await complete(small.grant, { contentType: 'application/octet-stream', parts: 1 });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.error.details).toMatchObject({ field: 'body', minBytes: 20_000 });
  });

  it('abort: the parts go and the URL takes nothing more', async () => {
    const { grant } = await start();
    expect((await putPart(grant, 1, pieces[0] as Buffer)).status).toBe(200);
    expect((await send(grant.url, 'DELETE')).body).toEqual({ aborted: true });
    expect((await parts(grant)).body).toMatchObject({ parts: [], state: 'refused' });
    expect((await putPart(grant, 2, pieces[1] as Buffer)).status).toBe(403);
    expect((await send(grant.url, 'DELETE')).body).toEqual({ aborted: false });
  });

  it('refuse a changed or expired URL on every route, and a single-upload URL is not a multipart one', async () => {
    const { grant } = await start();
    const changed = new URL(grant.url);
    changed.searchParams.set('expires', String(Number(changed.searchParams.get('expires')) + 60));
    const bad = { ...grant, url: changed.href };
    expect((await putPart(bad, 1, Buffer.alloc(10))).status).toBe(403);
    expect((await parts(bad)).status).toBe(403);
    expect((await complete(bad, { contentType: 'application/octet-stream', parts: 1 })).status).toBe(403);
    expect((await send(bad.url, 'DELETE')).status).toBe(403);
    const other = await start();
    const elsewhere = { ...grant, url: grant.url.replace(grant.uploadId, other.grant.uploadId) };
    expect((await putPart(elsewhere, 1, Buffer.alloc(10))).status).toBe(403);
    const short = await start({ expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await putPart(short.grant, 1, Buffer.alloc(10))).status).toBe(403);
    // The single-upload route does not take a multipart upload's id, nor the other way round.
    const single = await call(
      'POST',
      `/v1/storage/buckets/${other.bucket}/upload-urls`,
      { key: 'one.bin' },
      asService(),
    );
    const singleUrl = new URL(single.body?.url as string);
    const asMultipart = `${singleUrl.origin}/v1/storage/multipart/${single.body?.uploadId}/parts${singleUrl.search}`;
    expect((await send(asMultipart, 'GET')).status).toBe(403);
    for (const [body, field] of [
      [{ key: 'x', partSize: 1000 }, 'partSize'],
      [{ key: 'x', partSize: 128 * 1024 * 1024 }, 'partSize'],
    ] as const) {
      const refused = await call('POST', `/v1/storage/buckets/${other.bucket}/multipart-uploads`, body, asService());
      expect(refused.status).toBe(400);
      expect(refused.body?.error.details.field).toBe(field);
    }
  });
});

describe('the sweep', () => {
  it('removes the parts of a multipart upload that expired unfinished, bytes and all', async () => {
    const { grant } = await start();
    const part = await putPart(grant, 1, pieces[0] as Buffer);
    expect(part.status).toBe(200);
    const { database, storage } = server().services;
    const [row] = await database.query<{ blob: string }>(
      'SELECT blob FROM plinth.storage_upload_parts WHERE upload_id = $1',
      [grant.uploadId],
    );
    const before = await storage.driver.read(row?.blob as string);
    expect(before).toBeDefined();
    // An open read holds the file; let it go before the sweep.
    (before as unknown as { destroy(): void }).destroy();
    await database.query("UPDATE plinth.storage_uploads SET expires_at = now() - interval '2 hours' WHERE id = $1", [
      grant.uploadId,
    ]);
    await storage.sweep();
    expect(await storage.driver.read(row?.blob as string)).toBeUndefined();
    const [left] = await database.query('SELECT 1 FROM plinth.storage_uploads WHERE id = $1', [grant.uploadId]);
    expect(left).toBeUndefined();
  });
});
