// The storage client and uploadToUrl against the real server: a service-key client makes buckets
// and grants, and the upload goes out with no key at all, as it would from a browser (over fetch
// here: Node has no XMLHttpRequest). Every refusal arrives as the right error class with the
// server's message.
import { createHash } from 'node:crypto';
import {
  AbortError,
  ConfigurationError,
  ConflictError,
  createTransport,
  MissingServiceKeyError,
  NetworkError,
  NotFoundError,
  PermissionError,
  ValidationError,
} from '@plinth/core';
import type { MultipartGrant } from '@plinth/protocol';
import { type RunningServer, startServer } from '@plinth/server';
import {
  abortLarge,
  createStorageClient,
  type StorageClient,
  type UploadProgress,
  uploadLarge,
  uploadToUrl,
} from '@plinth/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { failure, patterned, streamOf } from '../fixtures/storage-client.js';

let server: RunningServer;
let storage: StorageClient;

beforeAll(async () => {
  server = await startServer({ database: 'memory', logLevel: 'silent' });
  storage = createStorageClient(
    createTransport({
      url: server.url,
      publishableKey: server.publishableKey as string,
      serviceKey: server.serviceKey as string,
    }),
  );
}, 60_000);
afterAll(() => server?.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
let buckets = 0;
async function makeBucket(options: { allowedContentTypes?: string[]; maxObjectBytes?: number } = {}) {
  const made = await storage.createBucket({ name: `sdk-${++buckets}-${Date.now().toString(36)}`, ...options });
  return made.name;
}

function expectWellFormedProgress(events: UploadProgress[], size: number) {
  expect(events.length).toBeGreaterThan(10);
  expect(events.at(-1)).toEqual({ loaded: size, total: size });
  expect(events.filter((event) => event.loaded === size && event.total === size)).toHaveLength(1);
  for (let i = 1; i < events.length; i++) {
    expect((events[i] as UploadProgress).loaded).toBeGreaterThanOrEqual((events[i - 1] as UploadProgress).loaded);
  }
}

describe('buckets and upload URLs', () => {
  it('are made and listed with the service key, and refused synchronously without it', async () => {
    const name = await makeBucket({ allowedContentTypes: ['image/png'], maxObjectBytes: 5000 });
    expect(await storage.listBuckets()).toContainEqual(
      expect.objectContaining({ name, allowedContentTypes: ['image/png'], maxObjectBytes: 5000, public: false }),
    );
    const keyless = createStorageClient(
      createTransport({ url: server.url, publishableKey: server.publishableKey as string }),
    );
    expect(() => keyless.from(name).createUploadUrl('a.png')).toThrow(MissingServiceKeyError);
    const grant = await storage.from(name).createUploadUrl('a.png', { maxBytes: 100, expiresIn: 60 });
    expect(grant).toMatchObject({ method: 'PUT', headers: { 'content-type': 'image/png' } });
    expect(grant.url.startsWith(`${server.url}/v1/storage/uploads/${grant.uploadId}?`)).toBe(true);
  });

  it('are refused with the server’s ValidationError and field', async () => {
    const name = await makeBucket({ maxObjectBytes: 5000 });
    const refused = await failure(storage.from(name).createUploadUrl('a.bin', { maxBytes: 5001 }));
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ code: 'validation_failed', details: { field: 'maxBytes' } });
    expect(refused.message).toContain('5000');
    const badKey = await failure(storage.from(name).createUploadUrl('../escape'));
    expect(badKey).toMatchObject({ details: { field: 'key' } });
    const noBucket = await failure(storage.from('no-such-bucket').createUploadUrl('a.bin'));
    expect(noBucket).toBeInstanceOf(NotFoundError);
  });
});

describe('uploadToUrl, with no key, 3 MB', () => {
  const size = 3 * 1024 * 1024;
  it.each([
    ['a Uint8Array', (bytes: Uint8Array) => bytes],
    ['a Blob', (bytes: Uint8Array) => new Blob([bytes as BlobPart])],
    [
      'a ReadableStream',
      (bytes: Uint8Array) =>
        streamOf(Array.from({ length: 12 }, (_, i) => bytes.subarray(i * 262_144, (i + 1) * 262_144))),
    ],
  ] as const)('%s: stored whole, progress to the total, info matching its SHA-256', async (_, bodyOf) => {
    const bucket = await makeBucket({ maxObjectBytes: 10 * 1024 * 1024 });
    const owner = '00000000-0000-4000-8000-000000000007';
    const grant = await storage.from(bucket).createUploadUrl('files/data.bin', {
      userId: owner,
      metadata: { source: 'sdk' },
    });
    const bytes = patterned(size, buckets);
    const events: UploadProgress[] = [];
    const object = await uploadToUrl(grant, bodyOf(bytes), { onProgress: (event) => events.push(event) });
    expect(object).toMatchObject({
      bucket,
      key: 'files/data.bin',
      size,
      contentType: 'application/octet-stream',
      sha256: sha256(bytes),
      owner,
      metadata: { source: 'sdk' },
    });
    expectWellFormedProgress(events, size);
    expect(await storage.from(bucket).info('files/data.bin')).toEqual(object);
    expect(await storage.from(bucket).remove('files/data.bin')).toEqual(['files/data.bin']);
    expect(await failure(storage.from(bucket).info('files/data.bin'))).toBeInstanceOf(NotFoundError);
  });
});

describe('refused uploads', () => {
  it('a used grant: PermissionError saying to ask for a new URL', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('once.txt', { contentTypes: ['text/plain'] });
    await uploadToUrl(grant, new TextEncoder().encode('first'));
    const again = await failure(uploadToUrl(grant, new TextEncoder().encode('second')));
    expect(again).toBeInstanceOf(PermissionError);
    expect(again).toMatchObject({ code: 'permission_denied', status: 403 });
    expect(again.message).toMatch(/already used.*Ask your server for a new one/);
    expect(again.message).not.toContain('signature=');
  });

  it('an expired grant: PermissionError saying when it expired and what to do', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('late.txt', { expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const late = await failure(uploadToUrl(grant, new TextEncoder().encode('late'), { contentType: 'text/plain' }));
    expect(late).toBeInstanceOf(PermissionError);
    expect(late.message).toMatch(/expired at .*Ask your server for a new one/);
    expect(await failure(storage.from(bucket).info('late.txt'))).toBeInstanceOf(NotFoundError);
  });

  it('HTML declared image/png: ValidationError on content-type, nothing stored', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png'] });
    const grant = await storage.from(bucket).createUploadUrl('pic.png');
    const html = new TextEncoder().encode('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>');
    const refused = await failure(uploadToUrl(grant, new Blob([html as BlobPart], { type: 'text/html' })));
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ status: 400, details: { field: 'content-type', declared: 'image/png' } });
    expect(refused.message).toContain('Send the file with its real content type');
    expect(await failure(storage.from(bucket).info('pic.png'))).toBeInstanceOf(NotFoundError);
  });

  it('bytes over the grant’s limit: ValidationError (413) with the limit, or a cut connection', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('big.bin', { maxBytes: 100_000 });
    const refused = await failure(uploadToUrl(grant, patterned(2_000_000)));
    // fetch sends a stream body chunked, with no Content-Length to refuse it by: the server
    // counts, answers 413 and stops reading; the answer may reach fetch or the cut may first.
    if (refused instanceof ValidationError) {
      expect(refused).toMatchObject({ status: 413, details: { field: 'body', limit: 100_000 } });
    } else {
      expect(refused).toBeInstanceOf(NetworkError);
    }
    expect(await failure(storage.from(bucket).info('big.bin'))).toBeInstanceOf(NotFoundError);
  });

  it('a body that fails part-way: NetworkError, nothing stored, and the same grant works after', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('retry.bin');
    const whole = patterned(1_000_000, 9);
    let pulls = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls === 4) return controller.error(new Error('disk read failed'));
        controller.enqueue(whole.subarray(pulls * 100_000, ++pulls * 100_000));
      },
    });
    const cut = await failure(uploadToUrl(grant, failing));
    expect(cut).toBeInstanceOf(NetworkError);
    expect(cut.message).toContain('again with the same grant');
    // The server notices the cut and puts the grant back to pending; until then it answers 409.
    await expect
      .poll(async () => {
        const outcome = await uploadToUrl(grant, whole).catch((error: unknown) => error);
        return outcome instanceof Error ? outcome.name : (outcome as { sha256: string }).sha256;
      })
      .toBe(sha256(whole));
  });
});

describe('downloads, list, move and copy', () => {
  async function put(bucket: string, key: string, text: string) {
    const grant = await storage.from(bucket).createUploadUrl(key, { contentTypes: ['text/plain'] });
    return uploadToUrl(grant, new TextEncoder().encode(text));
  }

  it('reads an object back through a signed URL, and a public bucket through its public URL', async () => {
    const bucket = await makeBucket();
    await put(bucket, 'notes/hello.txt', 'hello');
    const { url, expiresAt } = await storage.from(bucket).createDownloadUrl('notes/hello.txt', { expiresIn: 60 });
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    expect(await (await fetch(url)).text()).toBe('hello');
    const open = (await storage.createBucket({ name: `sdk-public-${Date.now().toString(36)}`, public: true })).name;
    await put(open, 'hi.txt', 'public hello');
    expect(await (await fetch(storage.from(open).publicUrl('hi.txt'))).text()).toBe('public hello');
    // A private bucket's object is not there for anyone without a signed URL.
    expect((await fetch(storage.from(bucket).publicUrl('notes/hello.txt'))).status).toBe(404);
  });

  it('lists in pages, moves and copies, and says ConflictError for a taken key', async () => {
    const bucket = await makeBucket();
    for (const key of ['a.txt', 'b/1.txt', 'b/2.txt', 'c.txt']) await put(bucket, key, key);
    const first = await storage.from(bucket).list({ delimiter: '/', limit: 2 });
    expect([...first.objects.map((o) => o.key), ...first.prefixes]).toEqual(['a.txt', 'b/']);
    const second = await storage.from(bucket).list({ delimiter: '/', limit: 2, cursor: first.nextCursor as string });
    expect(second.objects.map((o) => o.key)).toEqual(['c.txt']);
    expect(second.nextCursor).toBeNull();
    const moved = await storage.from(bucket).move('a.txt', 'archive/a.txt');
    expect(moved.key).toBe('archive/a.txt');
    const copied = await storage.from(bucket).copy('c.txt', 'archive/c.txt');
    expect(copied.sha256).toBe(sha256(new TextEncoder().encode('c.txt')));
    const taken = await failure(storage.from(bucket).move('b/1.txt', 'c.txt'));
    expect(taken).toBeInstanceOf(ConflictError);
  });
});

describe('uploadLarge, with no key, against the server', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** The part numbers the server has, through the grant's own URL. */
  async function partsOn(grant: MultipartGrant): Promise<{ numbers: number[]; state: string }> {
    const url = new URL(grant.url);
    const answer = await fetch(`${url.origin}${url.pathname}/parts${url.search}`);
    const body = (await answer.json()) as { parts: { partNumber: number }[]; state: string };
    return { numbers: body.parts.map((part) => part.partNumber), state: body.state };
  }

  /** Counts the parts sent (PUTs) through fetch from here on. */
  function countPuts(): number[] {
    const sent: number[] = [];
    const realFetch = globalThis.fetch;
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      const part = /\/parts\/(\d+)\?/.exec(url);
      if ((init?.method ?? 'GET') === 'PUT' && part) sent.push(Number(part[1]));
      return realFetch(input, init);
    });
    return sent;
  }

  it('3 MB in 64 KiB parts: cut by an abort, resumed without sending a part twice, stored whole', async () => {
    const bucket = await makeBucket({ maxObjectBytes: 10 * 1024 * 1024 });
    const grant = await storage.from(bucket).createMultipartUpload('big/data.bin', {
      partSize: 65_536,
      metadata: { source: 'multipart' },
    });
    expect(grant).toMatchObject({ partSize: 65_536, contentTypes: [] });
    const bytes = patterned(3 * 1024 * 1024 + 12_345, 21);
    const parts = Math.ceil(bytes.length / 65_536);
    expect(parts).toBe(49);
    const controller = new AbortController();
    const cut = await failure(
      uploadLarge(grant, bytes, {
        signal: controller.signal,
        onProgress: ({ loaded }) => {
          if (loaded >= 1024 * 1024) controller.abort();
        },
      }),
    );
    expect(cut).toBeInstanceOf(AbortError);
    // Parts whose bytes had all gone out may still land; the server drops any that were cut.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await partsOn(grant);
    expect(before.state).toBe('pending');
    expect(before.numbers.length).toBeGreaterThanOrEqual(8);
    expect(before.numbers.length).toBeLessThan(parts);

    const sent = countPuts();
    const events: UploadProgress[] = [];
    const object = await uploadLarge(grant, new Blob([bytes as BlobPart]), {
      onProgress: (event) => events.push(event),
    });
    expect(object).toMatchObject({
      bucket,
      key: 'big/data.bin',
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: 'application/octet-stream',
      metadata: { source: 'multipart' },
    });
    expect(sent.filter((n) => before.numbers.includes(n))).toEqual([]);
    expect(sent.length).toBe(parts - before.numbers.length);
    expect(events[0]?.loaded).toBeGreaterThanOrEqual(before.numbers.length * 65_536 - 65_536);
    expect(events.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length });
    expect(await storage.from(bucket).info('big/data.bin')).toEqual(object);
    // Once completed, the grant takes nothing more, and says where the object is.
    const again = await failure(uploadLarge(grant, bytes));
    expect(again).toBeInstanceOf(ConflictError);
    expect(again.message).toContain('committed');
  });

  it('a file larger than the grant allows: refused when its parts’ URLs are asked for, before any part is sent', async () => {
    const bucket = await makeBucket();
    const grant = await storage
      .from(bucket)
      .createMultipartUpload('small.bin', { partSize: 65_536, maxBytes: 200_000 });
    const sent = countPuts();
    const refused = await failure(uploadLarge(grant, patterned(10 * 65_536), { concurrency: 1 }));
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ status: 400, details: { field: 'parts' } });
    expect(refused.message).toMatch(/at most 4 parts/);
    expect(sent).toEqual([]);
  });

  it('HTML declared image/png: refused at completion with the server’s ValidationError', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png'] });
    const grant = await storage.from(bucket).createMultipartUpload('pic.png', { partSize: 65_536 });
    const html = new TextEncoder().encode(`<!DOCTYPE html><html><body>${'x'.repeat(100_000)}</body></html>`);
    const refused = await failure(uploadLarge(grant, new Blob([html as BlobPart], { type: 'text/html' })));
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ details: { field: 'content-type', declared: 'image/png' } });
    expect(await failure(storage.from(bucket).info('pic.png'))).toBeInstanceOf(NotFoundError);
  });

  it('abortLarge drops the parts, and the grant is over', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createMultipartUpload('dropped.bin', { partSize: 65_536 });
    const controller = new AbortController();
    await failure(
      uploadLarge(grant, patterned(20 * 65_536), {
        signal: controller.signal,
        onProgress: ({ loaded }) => {
          if (loaded >= 4 * 65_536) controller.abort();
        },
      }),
    );
    expect(await abortLarge(grant)).toBe(true);
    expect(await partsOn(grant)).toEqual({ numbers: [], state: 'refused' });
    expect(await abortLarge(grant)).toBe(false);
    const after = await failure(uploadLarge(grant, patterned(20 * 65_536)));
    expect(after).toBeInstanceOf(ConflictError);
    expect(after.message).toContain('new grant');
  });

  it('refuses a grant for a single upload before any request', async () => {
    const bucket = await makeBucket();
    const single = await storage.from(bucket).createUploadUrl('one.bin');
    const sent = countPuts();
    const refused = await failure(uploadLarge(single as unknown as MultipartGrant, patterned(10)));
    expect(refused).toBeInstanceOf(ConfigurationError);
    expect(sent).toEqual([]);
  });
});
