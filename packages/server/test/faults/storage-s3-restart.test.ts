import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { type RunningServer, startServer } from '../../src/start-server.js';
import { jsonClient, signUpAndSignIn } from '../fixtures/auth-helpers.js';
import { startTestS3, type TestS3 } from '../fixtures/s3-server.js';
import { sha256 } from '../fixtures/storage-files.js';

// Faults (`pnpm test:faults`): the S3-compatible server (s3rver, in a child process) is killed
// and started again on its port and directory, and frozen and thawed. While it is away, every
// storage call that needs it answers 503 `storage_unavailable` with Retry-After at once (frozen:
// within the driver's 2 s timeout), never a 500 and never a hang; calls that only sign or read
// metadata, and every other route, answer as usual. Once it is back, a multipart upload begun
// before keeps the parts it had and completes, a form upload sent before completes, and the
// objects stored before are whole. The figures are printed.

const runs = process.env.PLINTH_FAULTS === '1';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  retryAfter: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely; the assertions check their shape.
  body: any;
  bytes: Buffer;
  ms: number;
}

/** One request, timed, its body read whole (JSON when it parses). */
async function send(url: string, method: string, body?: Buffer | Record<string, unknown>, headers = {}) {
  const started = performance.now();
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? { headers }
      : Buffer.isBuffer(body)
        ? { body: new Uint8Array(body), headers }
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: parsed,
    bytes,
    ms: performance.now() - started,
  } as Answer;
}

describe.skipIf(!runs)('the S3-compatible server killed and started again, and frozen', () => {
  let s3: TestS3;
  let server: RunningServer;
  let schemaDir: string;
  const outbox = createOutboxMailer(createLogger('silent'), 10_000);
  const call = jsonClient(() => server.url);
  const asService = () => ({ authorization: `Bearer ${server.serviceKey}` });
  const api = (path: string) => `${server.url}${path}`;

  beforeAll(async () => {
    s3 = await startTestS3();
    schemaDir = mkdtempSync(join(tmpdir(), 'plinth-faults-schema-'));
    writeFileSync(
      join(schemaDir, '001-fault-rows.sql'),
      'CREATE TABLE IF NOT EXISTS public.fault_rows (id text PRIMARY KEY, writer integer NOT NULL);\n' +
        'GRANT SELECT, INSERT ON public.fault_rows TO plinth_service;\n',
    );
    const generous = { capacity: 100_000, refillPerSecond: 10_000 };
    server = await startServer({
      database: 'memory',
      schemaDir,
      logLevel: 'silent',
      mailer: outbox,
      // Sign-up's mailed links go back to an app origin.
      corsOrigins: ['http://localhost:5173'],
      rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
      // The driver's defaults (2 s to connect and begin answering) are what is under test.
      s3: {
        endpoint: s3.endpoint,
        region: s3.region,
        bucket: s3.bucket,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        prefix: 'plinth/',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await s3?.close();
    if (schemaDir) rmSync(schemaDir, { recursive: true, force: true });
  });

  const partSize = 5 * 1024 * 1024;
  let bucketCount = 0;
  async function makeBucket(): Promise<string> {
    const name = `fault-${++bucketCount}-${Date.now().toString(36)}`;
    const made = await call(
      'POST',
      '/v1/storage/buckets',
      { name, public: true, maxObjectBytes: 100 * 1024 * 1024 },
      asService(),
    );
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    return name;
  }
  const formGrant = async (bucket: string, key: string) => {
    const answer = await send(api(`/v1/storage/buckets/${bucket}/upload-urls`), 'POST', { key }, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { url: string; fields: Record<string, string>; completeUrl: string; uploadId: string };
  };
  /** The browser's half of a form upload: straight to the storage service. */
  async function postForm(made: { url: string; fields: Record<string, string> }, bytes: Buffer) {
    const form = new FormData();
    for (const [name, value] of Object.entries(made.fields)) form.append(name, value);
    form.append('Content-Type', 'application/octet-stream');
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }));
    const response = await fetch(made.url, { method: 'POST', body: form });
    await response.arrayBuffer();
    expect([200, 201, 204]).toContain(response.status);
  }
  /** Uploads `bytes` as `key` (form upload, then completion): stored before the outage. */
  async function store(bucket: string, key: string, bytes: Buffer) {
    const made = await formGrant(bucket, key);
    await postForm(made, bytes);
    const done = await send(made.completeUrl, 'POST', {});
    expect(done.status, JSON.stringify(done.body)).toBe(200);
  }
  const downloadUrl = async (bucket: string, key: string) => {
    const answer = await send(api(`/v1/storage/buckets/${bucket}/download-urls`), 'POST', { key }, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.url as string;
  };
  const multipartAt = (url: string, suffix: string) => {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${suffix}${parsed.search}`;
  };
  const insert = (id: string) =>
    call('POST', '/v1/query', { table: 'fault_rows', op: 'insert', values: { id, writer: 0 } }, asService());

  it('killed: storage calls that need it answer 503 at once, the rest 200; restarted: uploads resume, objects are whole', async () => {
    const bucket = await makeBucket();
    // Objects stored before the outage.
    const stored = new Map<string, Buffer>([
      ['small.bin', randomBytes(64 * 1024)],
      ['large.bin', randomBytes(3 * 1024 * 1024)],
      ['doomed.bin', randomBytes(1024)],
    ]);
    for (const [key, bytes] of stored) await store(bucket, key, bytes);
    // A form upload whose bytes reached the storage service, not yet completed.
    const pendingBytes = randomBytes(200 * 1024);
    const pendingForm = await formGrant(bucket, 'pending.bin');
    await postForm(pendingForm, pendingBytes);
    // A multipart upload with its first part sent.
    const file = Buffer.concat([randomBytes(partSize), randomBytes(partSize), randomBytes(10_000)]);
    const pieces = [file.subarray(0, partSize), file.subarray(partSize, 2 * partSize), file.subarray(2 * partSize)];
    const made = await send(
      api(`/v1/storage/buckets/${bucket}/multipart-uploads`),
      'POST',
      { key: 'big.bin', partSize },
      asService(),
    );
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const multipart = made.body as { url: string; uploadId: string };
    const partUrls = await send(multipartAt(multipart.url, '/part-urls'), 'POST', { parts: [1, 2, 3] });
    expect(partUrls.status).toBe(200);
    const urlOfPart = (n: number) => partUrls.body.parts[n - 1].url as string;
    expect((await send(urlOfPart(1), 'PUT', pieces[0])).status).toBe(200);
    const link = await downloadUrl(bucket, 'small.bin');

    await s3.stop('SIGKILL');
    const killedAt = Date.now();

    // Storage calls that need the storage service: 503 storage_unavailable, Retry-After, at once.
    const needsS3: [string, () => Promise<Answer>][] = [
      [
        'create a multipart upload',
        () =>
          send(
            api(`/v1/storage/buckets/${bucket}/multipart-uploads`),
            'POST',
            { key: 'other.bin', partSize },
            asService(),
          ),
      ],
      ['list the parts of an upload', () => send(multipartAt(multipart.url, '/parts'), 'GET')],
      [
        'complete a multipart upload',
        () =>
          send(multipartAt(multipart.url, '/complete'), 'POST', {
            contentType: 'application/octet-stream',
            parts: 3,
          }),
      ],
      ['complete a form upload', () => send(pendingForm.completeUrl, 'POST', {})],
      ['download through a signed URL', () => send(link, 'GET')],
      ['download from a public bucket', () => send(api(`/v1/storage/public/${bucket}?key=large.bin`), 'GET')],
      [
        'copy an object',
        () =>
          send(api(`/v1/storage/buckets/${bucket}/copy`), 'POST', { from: 'small.bin', to: 'copy.bin' }, asService()),
      ],
    ];
    const unavailable: { what: string; answer: Answer }[] = [];
    for (const [what, request] of needsS3) unavailable.push({ what, answer: await request() });
    for (const { what, answer } of unavailable) {
      expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(503);
      expect(answer.retryAfter, what).toBe('1');
      expect(answer.body?.error, what).toMatchObject({
        code: 'service_unavailable',
        details: { reason: 'storage_unavailable' },
      });
      expect(answer.body.error.message, what).toMatch(
        /storage service could not be reached \((connection refused|connection closed|connection reset)\)/,
      );
      // The bound: never a hang. A refused connection is answered at once.
      expect(answer.ms, what).toBeLessThan(2_000);
    }
    // The browser's half fails too: the storage service is not there to take a part.
    await expect(fetch(urlOfPart(2), { method: 'PUT', body: new Uint8Array(pieces[1] as Buffer) })).rejects.toThrow();

    // Storage calls that only sign or read metadata, and the rest of the server: as usual.
    const unaffected: [string, () => Promise<Answer>][] = [
      ['health (liveness)', () => send(api('/v1/health/live'), 'GET')],
      ['health (readiness)', () => send(api('/v1/health'), 'GET')],
      [
        'a data insert',
        async () => ({ ...(await insert(`during-${randomUUID()}`)), bytes: Buffer.alloc(0), ms: 0, retryAfter: null }),
      ],
      [
        'a form upload grant (signed here)',
        () => send(api(`/v1/storage/buckets/${bucket}/upload-urls`), 'POST', { key: 'later.bin' }, asService()),
      ],
      ['part URLs (signed here)', () => send(multipartAt(multipart.url, '/part-urls'), 'POST', { parts: [2, 3] })],
      [
        'a download URL (signed here)',
        () => send(api(`/v1/storage/buckets/${bucket}/download-urls`), 'POST', { key: 'large.bin' }, asService()),
      ],
      [
        'object info',
        () => send(api(`/v1/storage/buckets/${bucket}/object?key=large.bin`), 'GET', undefined, asService()),
      ],
      ['list objects', () => send(api(`/v1/storage/buckets/${bucket}/objects`), 'GET', undefined, asService())],
      [
        'move an object',
        () =>
          send(api(`/v1/storage/buckets/${bucket}/move`), 'POST', { from: 'small.bin', to: 'moved.bin' }, asService()),
      ],
      // The row goes (the object is removed); its bytes are left on the storage service.
      [
        'remove an object',
        () => send(api(`/v1/storage/buckets/${bucket}/remove`), 'POST', { keys: ['doomed.bin'] }, asService()),
      ],
    ];
    for (const [what, request] of unaffected) {
      const answer = await request();
      expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(200);
    }
    stored.set('moved.bin', stored.get('small.bin') as Buffer);
    stored.delete('small.bin');
    stored.delete('doomed.bin');
    const person = await signUpAndSignIn(
      call,
      outbox,
      `s3-outage-${randomUUID()}@example.com`,
      'correct horse battery staple',
    );
    expect(
      (await call('GET', '/v1/auth/me', undefined, { authorization: `Bearer ${person.accessToken}` })).status,
    ).toBe(200);
    // Down a few seconds in all, and still answered the same way at the end.
    await sleep(Math.max(0, 3_000 - (Date.now() - killedAt)));
    const stillDown = await send(api(`/v1/storage/public/${bucket}?key=large.bin`), 'GET');
    expect(stillDown.status).toBe(503);
    expect(stillDown.retryAfter).toBe('1');
    const downFor = Date.now() - killedAt;

    await s3.start();
    const restartedAt = Date.now();
    let firstSuccess: number | undefined;
    for (;;) {
      const listed = await send(multipartAt(multipart.url, '/parts'), 'GET');
      if (listed.status === 200) {
        firstSuccess = Date.now() - restartedAt;
        // The part sent before the outage is kept: only the rest is sent again.
        expect(listed.body.parts).toEqual([{ partNumber: 1, size: partSize }]);
        break;
      }
      expect(listed.status).toBe(503);
      if (Date.now() - restartedAt > 10_000) throw new Error('storage calls did not recover within 10 s');
      await sleep(50);
    }
    // The part URLs handed out before the outage still work: same service, same port.
    for (const n of [2, 3]) expect((await send(urlOfPart(n), 'PUT', pieces[n - 1])).status).toBe(200);
    const done = await send(multipartAt(multipart.url, '/complete'), 'POST', {
      contentType: 'application/octet-stream',
      parts: 3,
      sha256: sha256(file),
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.object).toMatchObject({ size: file.length, sha256: sha256(file) });
    stored.set('big.bin', file);

    // The form upload whose completion failed during the outage was left open: it completes now.
    const completed = await send(pendingForm.completeUrl, 'POST', { size: pendingBytes.length });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    stored.set('pending.bin', pendingBytes);

    // Every object is whole, byte for byte, through the server; the removed one is gone.
    for (const [key, bytes] of stored) {
      const read = await send(await downloadUrl(bucket, key), 'GET');
      expect(read.status, key).toBe(200);
      expect(read.bytes.equals(bytes), key).toBe(true);
    }
    expect(
      (await send(api(`/v1/storage/buckets/${bucket}/object?key=doomed.bin`), 'GET', undefined, asService())).status,
    ).toBe(404);
    // And a new upload from start to end.
    await store(bucket, 'after.bin', randomBytes(1024));

    console.info(
      `faults: S3 killed for ${downFor} ms: ${unavailable.length} storage calls answered 503 storage_unavailable (slowest ${Math.round(Math.max(...unavailable.map((u) => u.answer.ms)))} ms), ${unaffected.length + 3} other calls 200; first storage success ${firstSuccess} ms after the restart; multipart upload resumed with 1 of 3 parts kept; ${stored.size} objects byte-identical`,
    );
  }, 120_000);

  it('killed in the middle of a completion (parts listed, not yet joined): 503, and it completes after the restart', async () => {
    await s3.start(); // running already, unless a test above failed while it was stopped
    const bucket = await makeBucket();
    const file = Buffer.concat([randomBytes(partSize), randomBytes(4_000)]);
    const made = await send(
      api(`/v1/storage/buckets/${bucket}/multipart-uploads`),
      'POST',
      { key: 'mid.bin', partSize },
      asService(),
    );
    expect(made.status).toBe(200);
    const urls = await send(multipartAt(made.body.url, '/part-urls'), 'POST', { parts: [1, 2] });
    expect((await send(urls.body.parts[0].url, 'PUT', file.subarray(0, partSize))).status).toBe(200);
    expect((await send(urls.body.parts[1].url, 'PUT', file.subarray(partSize))).status).toBe(200);

    // The service goes away after the server listed the parts, as it asks to join them.
    const { driver } = server.services.storage;
    if (driver.kind !== 's3') throw new Error('the server should be on the S3 driver');
    const join = driver.completeMultipart;
    driver.completeMultipart = async (...args) => {
      await s3.stop('SIGKILL');
      return join(...args);
    };
    const complete = () =>
      send(multipartAt(made.body.url, '/complete'), 'POST', {
        contentType: 'application/octet-stream',
        parts: 2,
        sha256: sha256(file),
      });
    let cut: Answer;
    try {
      cut = await complete();
    } finally {
      driver.completeMultipart = join;
    }
    expect(cut.status, JSON.stringify(cut.body)).toBe(503);
    expect(cut.body.error.details.reason).toBe('storage_unavailable');

    await s3.start();
    // Not refused: the upload is still open, with its parts, and completes.
    const listed = await send(multipartAt(made.body.url, '/parts'), 'GET');
    expect(listed.body).toMatchObject({ state: 'pending', parts: [{ partNumber: 1 }, { partNumber: 2 }] });
    const done = await complete();
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const read = await send(await downloadUrl(bucket, 'mid.bin'), 'GET');
    expect(read.bytes.equals(file)).toBe(true);
    console.info('faults: S3 killed mid-completion: 503, the upload stayed open, completed after the restart');
  }, 60_000);

  it('frozen: storage calls answer 503 within the 2 s timeout; thawed: they succeed again', async () => {
    await s3.start(); // running already, unless the test above failed while it was stopped
    const bucket = await makeBucket();
    const bytes = randomBytes(32 * 1024);
    await store(bucket, 'kept.bin', bytes);
    const link = await downloadUrl(bucket, 'kept.bin');
    const made = await send(
      api(`/v1/storage/buckets/${bucket}/multipart-uploads`),
      'POST',
      { key: 'frozen.bin', partSize },
      asService(),
    );
    expect(made.status).toBe(200);
    const parts = multipartAt(made.body.url, '/parts');

    s3.freeze();
    let answers: Answer[];
    let live: Answer;
    try {
      // Together: a hung storage service holds no other request up.
      [live, ...answers] = await Promise.all([
        send(api('/v1/health/live'), 'GET'),
        send(link, 'GET'),
        send(parts, 'GET'),
        send(api(`/v1/storage/buckets/${bucket}/multipart-uploads`), 'POST', { key: 'x.bin', partSize }, asService()),
      ]);
    } finally {
      s3.thaw();
    }
    expect(live.status).toBe(200);
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      expect(answer.retryAfter).toBe('1');
      expect(answer.body.error.details.reason).toBe('storage_unavailable');
      expect(answer.body.error.message).toMatch(/did not answer within 2000 ms/);
      // Bounded by the driver's timeout (2 s), with room for a busy machine; never the minutes
      // a fetch without one waits.
      expect(answer.ms).toBeLessThan(5_000);
    }
    const read = await send(link, 'GET');
    expect(read.status).toBe(200);
    expect(read.bytes.equals(bytes)).toBe(true);
    expect((await send(parts, 'GET')).status).toBe(200);
    console.info(
      `faults: S3 frozen: ${answers.length} storage calls answered 503 in ${answers.map((a) => Math.round(a.ms)).join(', ')} ms (timeout 2000 ms); liveness ${Math.round(live.ms)} ms; served again at once after the thaw`,
    );
  }, 60_000);
});
