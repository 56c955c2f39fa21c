import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { expectOneWholeObject, html, png, sha256 } from '../fixtures/storage-files.js';
import { useTestServer } from '../fixtures/test-server.js';

// Storage end to end over real sockets: buckets, upload grants, uploads checked on their bytes,
// object info, removal, and the events each change writes. Every refusal is a 4xx naming what was
// wrong, and leaves nothing visible.

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
});
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });

let bucketCount = 0;
async function makeBucket(body: Record<string, unknown> = {}): Promise<string> {
  const name = `bucket-${++bucketCount}-${Date.now().toString(36)}`;
  const made = await call('POST', '/v1/storage/buckets', { name, ...body }, asService());
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  return name;
}

interface Grant {
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
  uploadId: string;
}

async function grant(bucket: string, body: Record<string, unknown>): Promise<Grant> {
  const answer = await call('POST', `/v1/storage/buckets/${bucket}/upload-urls`, body, asService());
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as Grant;
}

async function put(url: string, bytes: Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes), headers });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const info = (bucket: string, key: string) =>
  call('GET', `/v1/storage/buckets/${bucket}/object?key=${encodeURIComponent(key)}`, undefined, asService());

async function events(type: string, bucket: string) {
  const rows = await server().services.database.query<{ id: string | number; payload: string }>(
    'SELECT id, payload::text AS payload FROM plinth.events WHERE type = $1 AND channel = $2 ORDER BY id',
    [type, `storage:${bucket}`],
  );
  return rows.map((row) => ({ id: Number(row.id), payload: JSON.parse(row.payload) as unknown }));
}

describe('buckets', () => {
  it('are made once, listed by name, and refused with a bad name, type or size', async () => {
    const name = await makeBucket({ public: true, allowedContentTypes: ['image/png'], maxObjectBytes: 1000 });
    const again = await call('POST', '/v1/storage/buckets', { name }, asService());
    expect(again.status).toBe(409);
    const listed = await call('GET', '/v1/storage/buckets', undefined, asService());
    expect(listed.body?.buckets).toContainEqual(
      expect.objectContaining({ name, public: true, allowedContentTypes: ['image/png'], maxObjectBytes: 1000 }),
    );
    for (const [body, field] of [
      [{ name: 'A' }, 'name'],
      [{ name: '../etc' }, 'name'],
      [{ name: 'ok-name', allowedContentTypes: ['image/PNG; x=1'] }, 'allowedContentTypes.0'],
      [{ name: 'ok-name', maxObjectBytes: 0 }, 'maxObjectBytes'],
      [{ name: 'ok-name', maxObjectBytes: 6 * 1024 ** 4 }, 'maxObjectBytes'],
      [{ name: 'ok-name', public: 'yes' }, 'public'],
    ] as const) {
      const refused = await call('POST', '/v1/storage/buckets', body, asService());
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body?.error.details.field).toBe(field);
    }
  });

  it('need the service key', async () => {
    expect((await call('POST', '/v1/storage/buckets', { name: 'no-key' })).status).toBe(401);
    expect((await call('GET', '/v1/storage/buckets')).status).toBe(401);
  });
});

describe('upload grants', () => {
  it('fix the key, types and sizes, within the bucket’s limits', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png', 'image/jpeg'], maxObjectBytes: 10_000 });
    const made = await grant(bucket, { key: 'a/b.png', contentTypes: ['image/png'], expiresIn: 60 });
    expect(made.method).toBe('PUT');
    expect(made.headers).toEqual({ 'content-type': 'image/png' });
    expect(new URL(made.url).pathname).toBe(`/v1/storage/uploads/${made.uploadId}`);
    const expiresIn = Date.parse(made.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(50_000);
    expect(expiresIn).toBeLessThanOrEqual(60_000);
    for (const [body, status, field] of [
      [{ key: 'x', contentTypes: ['text/html'] }, 400, 'contentTypes'],
      [{ key: 'x', maxBytes: 10_001 }, 400, 'maxBytes'],
      [{ key: 'x', minBytes: 20, maxBytes: 10 }, 400, 'minBytes'],
      [{ key: 'x', expiresIn: 7 * 24 * 3600 + 1 }, 400, 'expiresIn'],
      [{ key: 'x', expiresIn: 0 }, 400, 'expiresIn'],
      [{ key: '../x' }, 400, 'key'],
      [{ key: 'a//b' }, 400, 'key'],
      [{ key: 'a\\b' }, 400, 'key'],
      [{ key: 'x'.repeat(1025) }, 400, 'key'],
      [{ key: 'x', userId: 'not-a-uuid' }, 400, 'userId'],
      [{ key: 'x', metadata: { 'Bad Name': 'v' } }, 400, 'metadata.Bad Name'],
    ] as const) {
      const answer = await call('POST', `/v1/storage/buckets/${bucket}/upload-urls`, body, asService());
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body?.error.details.field, JSON.stringify(answer.body)).toBe(field);
    }
    const missing = await call('POST', '/v1/storage/buckets/no-such-bucket/upload-urls', { key: 'x' }, asService());
    expect(missing.status).toBe(404);
  });
});

describe('uploads', () => {
  it('commit a checked object with its owner and metadata, and write object.created', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png'] });
    const owner = '00000000-0000-4000-8000-000000000001';
    const made = await grant(bucket, { key: 'avatars/ada.png', userId: owner, metadata: { alt: 'Ada' } });
    const digest = `sha-256=:${createHash('sha256').update(png).digest('base64')}:`;
    const uploaded = await put(made.url, png, { ...made.headers, 'content-digest': digest });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(200);
    expect(uploaded.body.object).toMatchObject({
      bucket,
      key: 'avatars/ada.png',
      size: png.length,
      contentType: 'image/png',
      sha256: sha256(png),
      owner,
      metadata: { alt: 'Ada' },
    });
    expect((await info(bucket, 'avatars/ada.png')).body?.object).toEqual(uploaded.body.object);
    const created = await events('object.created', bucket);
    expect(created).toHaveLength(1);
    expect(created[0]?.payload).toMatchObject({ object: { key: 'avatars/ada.png', sha256: sha256(png) } });
    // Stored as JSON objects, not as JSON strings, for SQL and the features that read the log.
    const [kinds] = await server().services.database.query<{ payload: string; metadata: string }>(
      `SELECT jsonb_typeof(e.payload) AS payload, jsonb_typeof(o.metadata) AS metadata
         FROM plinth.events e, plinth.storage_objects o
        WHERE e.channel = $1 AND o.bucket = $2 AND o.key = 'avatars/ada.png'`,
      [`storage:${bucket}`, bucket],
    );
    expect(kinds).toEqual({ payload: 'object', metadata: 'object' });
  });

  it('refuse a second use of the same URL', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'once.txt' });
    expect((await put(made.url, Buffer.from('first'), { 'content-type': 'text/plain' })).status).toBe(200);
    const second = await put(made.url, Buffer.from('second'), { 'content-type': 'text/plain' });
    expect(second.status).toBe(403);
    expect(second.body.error.message).toMatch(/already used/);
  });

  it('refuse a URL whose signed parts were changed, or that carries no signature', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'signed.txt' });
    const url = new URL(made.url);
    const tampered = [
      (u: URL) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)),
      (u: URL) => u.searchParams.set('signature', `${'A'.repeat(42)}A`),
      (u: URL) => u.searchParams.delete('signature'),
      (u: URL) => u.searchParams.delete('expires'),
      (u: URL) => u.searchParams.append('extra', '1'),
      (u: URL) => u.searchParams.append('expires', u.searchParams.get('expires') as string),
      (u: URL) => {
        u.pathname = u.pathname.replace(made.uploadId, '00000000-0000-4000-8000-000000000000');
      },
    ];
    for (const change of tampered) {
      const copy = new URL(url);
      change(copy);
      const answer = await put(copy.href, Buffer.from('x'), { 'content-type': 'text/plain' });
      expect([400, 403], `${copy.search} → ${JSON.stringify(answer.body)}`).toContain(answer.status);
      expect(answer.status === 403 || answer.body.error.details.field !== undefined).toBe(true);
    }
    // None of those used the grant up: the real URL still works.
    expect((await put(made.url, Buffer.from('x'), { 'content-type': 'text/plain' })).status).toBe(200);
  });

  it('refuse an expired URL', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'late.txt', expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const answer = await put(made.url, Buffer.from('late'), { 'content-type': 'text/plain' });
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toMatch(/expired/);
    expect((await info(bucket, 'late.txt')).status).toBe(404);
  });

  it('refuse bytes over the size limit, whether declared or streamed, and keep nothing', async () => {
    const bucket = await makeBucket();
    const declared = await grant(bucket, { key: 'big.bin', maxBytes: 100 });
    const over = await put(declared.url, Buffer.alloc(101), { 'content-type': 'application/octet-stream' });
    expect(over.status).toBe(413);
    expect(over.body.error.details).toMatchObject({ field: 'body', limit: 100 });
    // Chunked, with no Content-Length to go by: refused while streaming, with a 413 or, if the
    // client is still sending when the server answers, by the connection being cut.
    const streamed = await grant(bucket, { key: 'big.bin', maxBytes: 100_000 });
    const outcome = await new Promise<number | 'cut'>((resolve) => {
      const request = httpRequest(streamed.url, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', () => resolve('cut'));
      let sent = 0;
      const more = () => {
        while (sent < 1_000_000 && !request.destroyed) {
          sent += 16_384;
          if (!request.write(Buffer.alloc(16_384, 1))) return request.once('drain', more);
        }
        request.end();
      };
      more();
    });
    expect([413, 'cut']).toContain(outcome);
    const [row] = await server().services.database.query<{ state: string }>(
      'SELECT state FROM plinth.storage_uploads WHERE id = $1',
      [streamed.uploadId],
    );
    expect(row?.state).toBe('refused');
    expect((await info(bucket, 'big.bin')).status).toBe(404);
  });

  it('refuse a type the URL does not allow, and bytes that are not what they are declared', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png', 'text/plain'] });
    const typed = await grant(bucket, { key: 'pic.png', contentTypes: ['image/png'] });
    const wrongType = await put(typed.url, png, { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details.field).toBe('content-type');
    const disguised = await grant(bucket, { key: 'pic.png', contentTypes: ['image/png'] });
    const htmlAsPng = await put(disguised.url, html, { 'content-type': 'image/png' });
    expect(htmlAsPng.status).toBe(400);
    expect(htmlAsPng.body.error.details).toMatchObject({ field: 'content-type', declared: 'image/png' });
    const anyType = await makeBucket();
    for (const declared of ['../../etc/passwd', 'image', 'text/plain/x', 'a b/c', '']) {
      const made = await grant(anyType, { key: 'odd.bin' });
      const odd = await put(made.url, Buffer.from('bytes'), { 'content-type': declared });
      expect(odd.status, declared).toBe(400);
      expect(odd.body.error.details.field).toBe('content-type');
    }
    const plain = await grant(bucket, { key: 'page.txt', contentTypes: ['text/plain'] });
    const htmlAsText = await put(plain.url, html, { 'content-type': 'text/plain' });
    expect(htmlAsText.status).toBe(400);
    expect((await info(bucket, 'pic.png')).status).toBe(404);
    expect((await info(bucket, 'page.txt')).status).toBe(404);
  });

  it('refuse bytes that do not match their Content-Digest, or fewer bytes than the minimum', async () => {
    const bucket = await makeBucket();
    const digested = await grant(bucket, { key: 'd.txt' });
    const wrong = `sha-256=:${createHash('sha256').update('other').digest('base64')}:`;
    const mismatch = await put(digested.url, Buffer.from('data'), {
      'content-type': 'text/plain',
      'content-digest': wrong,
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.details.field).toBe('content-digest');
    const unreadable = await grant(bucket, { key: 'd.txt' });
    const bad = await put(unreadable.url, Buffer.from('data'), {
      'content-type': 'text/plain',
      'content-digest': 'md5=:x:',
    });
    expect(bad.status).toBe(400);
    const small = await grant(bucket, { key: 'd.txt', minBytes: 10 });
    const tooSmall = await put(small.url, Buffer.from('data'), { 'content-type': 'text/plain' });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.error.details).toMatchObject({ field: 'body', minBytes: 10 });
    expect((await info(bucket, 'd.txt')).status).toBe(404);
  });

  it('leave nothing visible when the connection is cut half-way, and the URL still works after', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'cut.bin' });
    await new Promise<void>((resolve) => {
      const request = httpRequest(made.url, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': '100000' },
      });
      request.on('error', () => resolve());
      request.on('response', () => resolve());
      request.write(Buffer.alloc(50_000, 2), () =>
        setTimeout(() => {
          request.destroy();
          resolve();
        }, 50),
      );
    });
    // The server notices the cut and puts the grant back; wait until it has.
    await expect
      .poll(async () => {
        const [row] = await server().services.database.query<{ state: string }>(
          'SELECT state FROM plinth.storage_uploads WHERE id = $1',
          [made.uploadId],
        );
        return row?.state;
      })
      .toBe('pending');
    expect((await info(bucket, 'cut.bin')).status).toBe(404);
    const whole = Buffer.alloc(100_000, 3);
    const retried = await put(made.url, whole, { 'content-type': 'application/octet-stream' });
    expect(retried.status).toBe(200);
    expect(retried.body.object.sha256).toBe(sha256(whole));
  });

  it('end concurrent uploads to one key with one whole object', async () => {
    const bucket = await makeBucket();
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(200_000 + i, i + 1));
    const grants = await Promise.all(bodies.map(() => grant(bucket, { key: 'race.bin' })));
    const answers = await Promise.all(
      grants.map((made, i) => put(made.url, bodies[i] as Buffer, { 'content-type': 'application/octet-stream' })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 200));
    // The bytes under the object's current version are the ones its row describes, and the
    // versions it replaced are gone.
    await expectOneWholeObject(
      server(),
      bucket,
      'race.bin',
      bodies,
      grants.map((made) => made.uploadId),
    );
  });

  it('take one request per URL when two race for it', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, { key: 'one.bin' });
    const answers = await Promise.all(
      [1, 2].map((n) => put(made.url, Buffer.alloc(500_000, n), { 'content-type': 'application/octet-stream' })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
  });
});

describe('objects', () => {
  it('are removed with object.deleted, and missing keys are not reported removed', async () => {
    const bucket = await makeBucket();
    for (const key of ['r/1.txt', 'r/2.txt']) {
      const made = await grant(bucket, { key });
      expect((await put(made.url, Buffer.from(key), { 'content-type': 'text/plain' })).status).toBe(200);
    }
    const removed = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/remove`,
      { keys: ['r/1.txt', 'r/2.txt', 'r/none.txt'] },
      asService(),
    );
    expect(removed.status).toBe(200);
    expect(removed.body?.removed).toEqual(['r/1.txt', 'r/2.txt']);
    expect((await info(bucket, 'r/1.txt')).status).toBe(404);
    expect((await events('object.deleted', bucket)).map((event) => event.payload)).toEqual([
      expect.objectContaining({ object: expect.objectContaining({ key: 'r/1.txt' }) }),
      expect.objectContaining({ object: expect.objectContaining({ key: 'r/2.txt' }) }),
    ]);
    const empty = await call('POST', `/v1/storage/buckets/${bucket}/remove`, { keys: [] }, asService());
    expect(empty.status).toBe(400);
    expect(empty.body?.error.details.field).toBe('keys');
  });
});

describe('the sweep', () => {
  it('forgets grants that expired unused over an hour ago and keeps the rest', async () => {
    const bucket = await makeBucket();
    const stale = await grant(bucket, { key: 'stale.txt' });
    const fresh = await grant(bucket, { key: 'fresh.txt' });
    const { database } = server().services;
    await database.query("UPDATE plinth.storage_uploads SET expires_at = now() - interval '2 hours' WHERE id = $1", [
      stale.uploadId,
    ]);
    const swept = await server().services.storage.sweep();
    expect(swept.grants).toBeGreaterThanOrEqual(1);
    const left = await database.query<{ id: string }>(
      'SELECT id FROM plinth.storage_uploads WHERE id = ANY($1::uuid[])',
      [[stale.uploadId, fresh.uploadId]],
    );
    expect(left.map((row) => row.id)).toEqual([fresh.uploadId]);
    // The swept grant's URL is refused; the fresh one still works.
    expect((await put(stale.url, Buffer.from('x'), { 'content-type': 'text/plain' })).status).toBe(404);
    expect((await put(fresh.url, Buffer.from('x'), { 'content-type': 'text/plain' })).status).toBe(200);
  });
});

describe('downloads', () => {
  async function upload(bucket: string, key: string, bytes: Buffer, type: string) {
    const made = await grant(bucket, { key });
    const answer = await put(made.url, bytes, { 'content-type': type });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.object as { etag: string; sha256: string };
  }
  const downloadUrl = async (bucket: string, body: Record<string, unknown>) => {
    const answer = await call('POST', `/v1/storage/buckets/${bucket}/download-urls`, body, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { url: string; expiresAt: string };
  };

  it('read an object through a signed URL, whole, by range, and not again when unchanged', async () => {
    const bucket = await makeBucket();
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const object = await upload(bucket, 'dir/data.bin', bytes, 'application/octet-stream');
    const { url, expiresAt } = await downloadUrl(bucket, { key: 'dir/data.bin', expiresIn: 120 });
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(120_000);
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes);
    expect(whole.headers.get('content-type')).toBe('application/octet-stream');
    expect(whole.headers.get('content-length')).toBe('1000');
    expect(whole.headers.get('etag')).toBe(object.etag);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-disposition')).toBeNull();
    for (const [range, start, end] of [
      ['bytes=0-99', 0, 99],
      ['bytes=900-', 900, 999],
      ['bytes=-10', 990, 999],
      ['bytes=990-5000', 990, 999],
    ] as const) {
      const part = await fetch(url, { headers: { range } });
      expect(part.status, range).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(start, end + 1));
    }
    const beyond = await fetch(url, { headers: { range: 'bytes=1000-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */1000');
    // Ranges this server answers whole rather than guess at.
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=abc']) {
      const answer = await fetch(url, { headers: { range } });
      expect(answer.status, range).toBe(200);
      await answer.arrayBuffer();
    }
    const unchanged = await fetch(url, { headers: { 'if-none-match': object.etag } });
    expect(unchanged.status).toBe(304);
  });

  it('refuse a changed or expired URL, and a URL for an object that is gone', async () => {
    const bucket = await makeBucket();
    await upload(bucket, 'a.txt', Buffer.from('a'), 'text/plain');
    await upload(bucket, 'b.txt', Buffer.from('b'), 'text/plain');
    const { url } = await downloadUrl(bucket, { key: 'a.txt' });
    const other = new URL(url);
    other.searchParams.set('key', 'b.txt');
    expect((await fetch(other)).status).toBe(403);
    const named = new URL(url);
    named.searchParams.set('download', 'x.html');
    expect((await fetch(named)).status).toBe(403);
    const short = await downloadUrl(bucket, { key: 'a.txt', expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await fetch(short.url)).status).toBe(403);
    await call('POST', `/v1/storage/buckets/${bucket}/remove`, { keys: ['a.txt'] }, asService());
    expect((await fetch(url)).status).toBe(404);
    const missing = await call('POST', `/v1/storage/buckets/${bucket}/download-urls`, { key: 'none' }, asService());
    expect(missing.status).toBe(404);
  });

  it('send markup as an attachment with nosniff, and a chosen name when asked', async () => {
    const bucket = await makeBucket();
    await upload(bucket, 'pages/page.html', html, 'text/html');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    await upload(bucket, 'logo.svg', svg, 'image/svg+xml');
    for (const key of ['pages/page.html', 'logo.svg']) {
      const answer = await fetch((await downloadUrl(bucket, { key })).url);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="/);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
      await answer.arrayBuffer();
    }
    const named = await fetch((await downloadUrl(bucket, { key: 'logo.svg', download: 'Logo – final.svg' })).url);
    expect(named.headers.get('content-disposition')).toBe(
      `attachment; filename="Logo _ final.svg"; filename*=UTF-8''${encodeURIComponent('Logo – final.svg')}`,
    );
    await named.arrayBuffer();
    for (const download of ['../x', 'a/b', 'a"b', 'a\nb', '']) {
      const refused = await call(
        'POST',
        `/v1/storage/buckets/${bucket}/download-urls`,
        { key: 'logo.svg', download },
        asService(),
      );
      expect(refused.status, download).toBe(400);
      expect(refused.body?.error.details.field).toBe('download');
    }
  });

  it('serve public buckets to anyone, and private ones to nobody without a signed URL', async () => {
    const open = await makeBucket({ public: true });
    const closed = await makeBucket();
    await upload(open, 'hello.txt', Buffer.from('hello'), 'text/plain');
    await upload(closed, 'secret.txt', Buffer.from('secret'), 'text/plain');
    const shown = await fetch(`${server().url}/v1/storage/public/${open}?key=hello.txt`);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toBe('hello');
    expect(shown.headers.get('cache-control')).toBe('public, no-cache');
    const hidden = await fetch(`${server().url}/v1/storage/public/${closed}?key=secret.txt`);
    expect(hidden.status).toBe(404);
    const none = await fetch(`${server().url}/v1/storage/public/${open}?key=none.txt`);
    expect(none.status).toBe(404);
    // The same 404 whether the object is private or missing: no way to tell which.
    expect(((await hidden.json()) as { error: { message: string } }).error.message).toMatch(/no object/);
    const unsigned = await fetch(`${server().url}/v1/storage/objects/${closed}?key=secret.txt`);
    expect(unsigned.status).toBe(403);
  });
});

describe('list, move and copy', () => {
  async function store(bucket: string, key: string, text = key) {
    const made = await grant(bucket, { key });
    const answer = await put(made.url, Buffer.from(text), { 'content-type': 'text/plain' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }
  const list = (bucket: string, query: string) =>
    call('GET', `/v1/storage/buckets/${bucket}/objects${query}`, undefined, asService());

  it('lists by key in byte order, groups folders at the delimiter, and pages without gaps or repeats', async () => {
    const bucket = await makeBucket();
    const keys = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'bz.txt', 'c/4.txt', 'Z.txt', 'é.txt'];
    for (const key of keys) await store(bucket, key);
    const all = await list(bucket, '');
    expect(all.body?.objects.map((o: { key: string }) => o.key)).toEqual(
      [...keys].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)),
    );
    expect(all.body?.nextCursor).toBeNull();
    const top = await list(bucket, '?delimiter=/');
    expect(top.body?.objects.map((o: { key: string }) => o.key)).toEqual(['Z.txt', 'a.txt', 'bz.txt', 'é.txt']);
    expect(top.body?.prefixes).toEqual(['b/', 'c/']);
    const inB = await list(bucket, '?prefix=b/&delimiter=/');
    expect(inB.body?.objects.map((o: { key: string }) => o.key)).toEqual(['b/1.txt', 'b/2.txt']);
    expect(inB.body?.prefixes).toEqual(['b/c/']);
    // Pages of 2 add up to the whole listing.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(bucket, `?delimiter=/&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      const { objects, prefixes, nextCursor } = page.body as {
        objects: { key: string }[];
        prefixes: string[];
        nextCursor: string | null;
      };
      expect(objects.length + prefixes.length).toBeLessThanOrEqual(2);
      seen.push(...objects.map((o) => o.key), ...prefixes);
      cursor = nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['Z.txt', 'a.txt', 'b/', 'bz.txt', 'c/', 'é.txt'].sort());
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?limit=abc', 'limit'],
      ['?cursor=%%%', 'cursor'],
      ['?cursor=bm90LWEtY3Vyc29y!', 'cursor'],
      [`?prefix=${'x'.repeat(1100)}`, 'prefix'],
    ] as const) {
      const refused = await list(bucket, query);
      expect(refused.status, query).toBe(400);
      expect(refused.body?.error.details.field, query).toBe(field);
    }
    expect((await list('no-such-bucket', '')).status).toBe(404);
  });

  it('moves an object to a free key, with its events, and refuses a taken one', async () => {
    const bucket = await makeBucket();
    const other = await makeBucket({ allowedContentTypes: ['image/png'] });
    await store(bucket, 'old.txt', 'moving');
    await store(bucket, 'taken.txt');
    const moved = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/move`,
      { from: 'old.txt', to: 'new/place.txt' },
      asService(),
    );
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body?.object).toMatchObject({ key: 'new/place.txt', sha256: sha256(Buffer.from('moving')) });
    expect((await info(bucket, 'old.txt')).status).toBe(404);
    const { url } = (
      await call('POST', `/v1/storage/buckets/${bucket}/download-urls`, { key: 'new/place.txt' }, asService())
    ).body as { url: string };
    expect(await (await fetch(url)).text()).toBe('moving');
    expect((await events('object.deleted', bucket)).at(-1)?.payload).toMatchObject({ object: { key: 'old.txt' } });
    expect((await events('object.created', bucket)).at(-1)?.payload).toMatchObject({
      object: { key: 'new/place.txt' },
    });
    const onto = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/move`,
      { from: 'new/place.txt', to: 'taken.txt' },
      asService(),
    );
    expect(onto.status).toBe(409);
    expect((await info(bucket, 'new/place.txt')).status).toBe(200);
    const wrongType = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/move`,
      { from: 'new/place.txt', to: 'x.txt', toBucket: other },
      asService(),
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body?.error.details.field).toBe('toBucket');
    const missing = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/move`,
      { from: 'none.txt', to: 'y.txt' },
      asService(),
    );
    expect(missing.status).toBe(404);
  });

  it('copies an object so that removing either leaves the other whole', async () => {
    const bucket = await makeBucket();
    const target = await makeBucket();
    await store(bucket, 'original.txt', 'copied bytes');
    const copied = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/copy`,
      { from: 'original.txt', to: 'copy.txt', toBucket: target },
      asService(),
    );
    expect(copied.status, JSON.stringify(copied.body)).toBe(200);
    expect(copied.body?.object).toMatchObject({
      bucket: target,
      key: 'copy.txt',
      sha256: sha256(Buffer.from('copied bytes')),
    });
    await call('POST', `/v1/storage/buckets/${bucket}/remove`, { keys: ['original.txt'] }, asService());
    const { url } = (
      await call('POST', `/v1/storage/buckets/${target}/download-urls`, { key: 'copy.txt' }, asService())
    ).body as { url: string };
    expect(await (await fetch(url)).text()).toBe('copied bytes');
    await store(bucket, 'second.txt');
    const again = await call(
      'POST',
      `/v1/storage/buckets/${bucket}/copy`,
      { from: 'second.txt', to: 'copy.txt', toBucket: target },
      asService(),
    );
    expect(again.status).toBe(409);
  });
});
