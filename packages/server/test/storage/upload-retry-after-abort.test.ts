import { type ClientRequest, request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { hashOf, sha256 } from '../fixtures/storage-files.js';
import { useTestServer } from '../fixtures/test-server.js';

// A client that aborts an upload and sends it again at once, with the same grant, while the
// server may not yet have noticed the first connection close: the retry must go through. A grant
// a live request really holds still answers 409, after a bounded wait.

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
});
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });

async function makeBucket(): Promise<string> {
  const name = `retry-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const made = await call('POST', '/v1/storage/buckets', { name }, asService());
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  return name;
}

async function grant(bucket: string, key: string): Promise<{ url: string; uploadId: string }> {
  const answer = await call('POST', `/v1/storage/buckets/${bucket}/upload-urls`, { key }, asService());
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as { url: string; uploadId: string };
}

async function put(url: string, bytes: Buffer) {
  const response = await fetch(url, {
    method: 'PUT',
    body: new Uint8Array(bytes),
    headers: { 'content-type': 'application/octet-stream' },
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A PUT that declares `total` bytes and has sent only `first` so far; the test sends the rest, or cuts it. */
function partialPut(url: string, total: number, first: Buffer) {
  const request: ClientRequest = httpRequest(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
  });
  const answered = new Promise<{ status: number; body: unknown } | 'cut'>((resolve) => {
    request.on('error', () => resolve('cut'));
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
      );
      response.on('error', () => resolve('cut'));
    });
  });
  request.write(first);
  return { request, answered };
}

const grantState = async (uploadId: string) => {
  const [row] = await server().services.database.query<{ state: string }>(
    'SELECT state FROM plinth.storage_uploads WHERE id = $1',
    [uploadId],
  );
  return row?.state;
};

/** Until the server has claimed the grant for a request: it is reading that request's body. */
const claimed = (uploadId: string) =>
  expect.poll(() => grantState(uploadId), { interval: 5, timeout: 10_000 }).toBe('uploading');

describe('an upload retried right after its connection was cut', () => {
  it('goes through with the same grant, and the object is the retry’s bytes', async () => {
    const bucket = await makeBucket();
    for (let round = 0; round < 25; round++) {
      const key = `again-${round}.bin`;
      const made = await grant(bucket, key);
      const cut = partialPut(made.url, 1_000_000, Buffer.alloc(200_000, 1));
      await claimed(made.uploadId);
      // Cut, and send again in the same tick: the server has not seen the close yet.
      cut.request.destroy();
      const retry = Buffer.alloc(300_000, (round % 250) + 2);
      const retried = await put(made.url, retry);
      expect(retried.status, `round ${round}: ${JSON.stringify(retried.body)}`).toBe(200);
      expect(retried.body.object).toMatchObject({ key, size: retry.byteLength, sha256: sha256(retry) });
      expect(await cut.answered).toBe('cut');
      const { blob } = await server().services.storage.locate(bucket, key);
      expect(await hashOf(await server().services.storage.driver.read(blob))).toBe(sha256(retry));
      expect(await grantState(made.uploadId)).toBe('committed');
    }
    // The cut requests' staged bytes were removed, not left for the sweep.
    expect(await server().services.storage.driver.sweepStaging(0)).toBe(0);
  }, 120_000);
});

describe('a grant a live request is using', () => {
  it('answers a second request 409 conflict after a bounded wait, and the first completes', async () => {
    const bucket = await makeBucket();
    const made = await grant(bucket, 'held.bin');
    const whole = Buffer.alloc(300_000, 7);
    const slow = partialPut(made.url, whole.byteLength, whole.subarray(0, 100_000));
    await claimed(made.uploadId);
    const second = await put(made.url, Buffer.alloc(1000, 8));
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('conflict');
    expect(second.body.error.message).toBe(
      'This upload URL is being used by another request right now; it takes one upload.',
    );
    // The first request was never disturbed: it sends the rest and becomes the object.
    slow.request.end(whole.subarray(100_000));
    const first = await slow.answered;
    expect(first).toMatchObject({ status: 200, body: { object: { key: 'held.bin', sha256: sha256(whole) } } });
  }, 30_000);
});
