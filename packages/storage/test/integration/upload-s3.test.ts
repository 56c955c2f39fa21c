import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { AbortError, createTransport, PermissionError, ValidationError } from '@plinth/core';
import type { MultipartGrant, UploadGrant } from '@plinth/protocol';
import { type RunningServer, startServer } from '@plinth/server';
import {
  createStorageClient,
  type StorageClient,
  type UploadProgress,
  uploadLarge,
  uploadToUrl,
} from '@plinth/storage';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium } from '../../../../test/fixtures/chromium.js';
import { startTestS3, type TestS3 } from '../../../server/test/fixtures/s3-server.js';
import { serveApp, uploadModule } from '../fixtures/browser-app.js';
import { failure, patterned } from '../fixtures/storage-client.js';

// The SDK against the real server with its S3 driver, over a real S3-compatible server (s3rver,
// the server package's fixture): uploadToUrl's form upload straight to the bucket and its
// completion on Plinth, and uploadLarge's parts to presigned part URLs; over fetch in Node, and
// over XMLHttpRequest in Chromium, across origins. s3rver checks neither signatures nor POST
// policies, so S3's own refusals are covered by the unit tests, with S3's XML.
let s3: TestS3;
let server: RunningServer;
let storage: StorageClient;
let app: { server: Server; url: string };

beforeAll(async () => {
  s3 = await startTestS3({ bucket: 'sdk-e2e' });
  app = await serveApp(await uploadModule());
  const { endpoint, region, bucket, accessKeyId, secretAccessKey } = s3;
  server = await startServer({
    database: 'memory',
    logLevel: 'silent',
    corsOrigins: [app.url],
    s3: { endpoint, region, bucket, accessKeyId, secretAccessKey },
  });
  storage = createStorageClient(
    createTransport({
      url: server.url,
      publishableKey: server.publishableKey as string,
      serviceKey: server.serviceKey as string,
    }),
  );
}, 60_000);
afterAll(async () => {
  await server?.close();
  await s3?.close();
  await new Promise((resolve) => app?.server.close(resolve));
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
let buckets = 0;
const makeBucket = async (options: { allowedContentTypes?: string[]; maxObjectBytes?: number } = {}) =>
  (await storage.createBucket({ name: `s3-${++buckets}-${Date.now().toString(36)}`, ...options })).name;

/**
 * Records where each request of the SDK goes: `METHOD S3|Plinth`, and the part number of a part.
 * The server's own requests to S3, in the same process, are left out: they are signed.
 */
function recordRequests(): { to: string[]; parts: number[] } {
  const seen = { to: [] as string[], parts: [] as number[] };
  const realFetch = globalThis.fetch;
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
    // Read, not copied: a Request made from the server's would take its body.
    const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
    if (headers.has('authorization')) return realFetch(input, init);
    const url = new URL(String(input instanceof Request ? input.url : input));
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    seen.to.push(`${method} ${url.origin === s3.endpoint ? 'S3' : url.origin === server.url ? 'Plinth' : url.origin}`);
    const part = url.searchParams.get('partNumber');
    if (method === 'PUT' && part) seen.parts.push(Number(part));
    return realFetch(input, init);
  });
  return seen;
}

describe('uploadToUrl with a POST grant, over fetch', () => {
  it('sends the form to the bucket, then completes on Plinth: the object, its SHA-256, progress at the total once', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('files/data.bin');
    expect(grant).toMatchObject({ method: 'POST', url: expect.stringContaining(s3.endpoint) });
    const seen = recordRequests();
    const bytes = patterned(300_000, 5);
    const events: UploadProgress[] = [];
    const object = await uploadToUrl(grant, bytes, { onProgress: (event) => events.push(event) });
    expect(seen.to).toEqual(['POST S3', 'POST Plinth']);
    expect(object).toMatchObject({ bucket, key: 'files/data.bin', size: bytes.length, sha256: sha256(bytes) });
    expect(events).toEqual([{ loaded: bytes.length, total: bytes.length }]);
    expect(await storage.from(bucket).info('files/data.bin')).toEqual(object);
  });

  it('a grant that fixes no type: the object has the type the upload declares', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('notes.txt');
    expect(grant.fields).not.toHaveProperty('Content-Type');
    const object = await uploadToUrl(grant, new Blob(['some notes'], { type: 'text/plain' }));
    expect(object).toMatchObject({ key: 'notes.txt', size: 10, contentType: 'text/plain' });
  });

  it('a used grant: the completion’s PermissionError', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('once.txt', { contentTypes: ['text/plain'] });
    await uploadToUrl(grant, new TextEncoder().encode('first'));
    const again = await failure(uploadToUrl(grant, new TextEncoder().encode('second')));
    expect(again).toBeInstanceOf(PermissionError);
    expect(again).toMatchObject({ status: 403 });
  });

  it('HTML declared image/png: the completion’s ValidationError, nothing stored', async () => {
    const bucket = await makeBucket({ allowedContentTypes: ['image/png'] });
    const grant = await storage.from(bucket).createUploadUrl('pic.png');
    const html = new TextEncoder().encode('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>');
    const refused = await failure(uploadToUrl(grant, html));
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ status: 400, details: { field: 'content-type', declared: 'image/png' } });
    expect(await storage.from(bucket).list()).toMatchObject({ objects: [] });
  });
});

describe('uploadLarge with part URLs on S3, over fetch', () => {
  it('sends the parts to S3, resumes after an abort without sending a part twice, completes whole', async () => {
    const bucket = await makeBucket({ maxObjectBytes: 64 * 1024 * 1024 });
    const partSize = 5 * 1024 * 1024;
    const grant = await storage.from(bucket).createMultipartUpload('big.bin', { partSize });
    const bytes = patterned(4 * partSize + 12_345, 9);
    const seen = recordRequests();
    const controller = new AbortController();
    const aborted = await failure(
      uploadLarge(grant, bytes, {
        concurrency: 1,
        signal: controller.signal,
        onProgress: ({ loaded }) => {
          // The last part goes first, then part 1: abort once both are out.
          if (loaded >= partSize + 12_345) controller.abort();
        },
      }),
    );
    expect(aborted).toBeInstanceOf(AbortError);
    const first = [...seen.parts];
    seen.parts.length = 0;
    const object = await uploadLarge(grant, new Blob([bytes as BlobPart]), { concurrency: 2 });
    expect(object).toMatchObject({ key: 'big.bin', size: bytes.length, sha256: sha256(bytes) });
    // A part already on S3 when the first call stopped is not sent again.
    const stored = first.filter((n) => !seen.parts.includes(n));
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect([...new Set([...stored, ...seen.parts])].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(seen.to.filter((to) => to === 'PUT Plinth')).toEqual([]);
  }, 60_000);
});

// The page's module and its origin, as in browser-upload.test.ts.

interface PageGlobals {
  uploadToUrl: typeof uploadToUrl;
  uploadLarge: typeof uploadLarge;
}

describe.skipIf(process.env.PLINTH_SKIP_BROWSER === '1')('in Chromium, across origins', () => {
  let browser: Browser | undefined;
  let page: Page;
  const requests: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin === app.url) return;
      requests.push(`${request.method()} ${url.origin === s3.endpoint ? 'S3' : 'Plinth'} ${request.resourceType()}`);
    });
    await page.goto(app.url);
    await page.waitForFunction(() => 'uploadToUrl' in window);
  }, 60_000);
  afterAll(() => browser?.close());

  it('uploadToUrl: the form to S3 over XMLHttpRequest, then the completion: the object, progress ending once at the total', async () => {
    const bucket = await makeBucket();
    const grant = await storage.from(bucket).createUploadUrl('photo.png', { contentTypes: ['image/png'] });
    const size = 2 * 1024 * 1024;
    requests.length = 0;
    const outcome = await page.evaluate(
      async ({ grant, size }) => {
        const { uploadToUrl } = window as unknown as PageGlobals;
        // A PNG signature, so the server's sniffing agrees with the declared type.
        const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
        bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        const sha256 = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (byte) =>
          byte.toString(16).padStart(2, '0'),
        ).join('');
        const events: UploadProgress[] = [];
        const object = await uploadToUrl(grant, new Blob([bytes]), { onProgress: (event) => events.push(event) });
        return { object, events, sha256 };
      },
      { grant: grant as UploadGrant, size },
    );
    expect(outcome.object).toMatchObject({ key: 'photo.png', size, sha256: outcome.sha256, contentType: 'image/png' });
    expect(requests.filter((request) => !request.startsWith('OPTIONS'))).toEqual(['POST S3 xhr', 'POST Plinth fetch']);
    expect(outcome.events.at(-1)).toEqual({ loaded: size, total: size });
    expect(outcome.events.filter((event) => event.loaded === size)).toHaveLength(1);
    for (let i = 1; i < outcome.events.length; i++) {
      expect(outcome.events[i]?.loaded).toBeGreaterThan(outcome.events[i - 1]?.loaded as number);
    }
  }, 60_000);

  it('uploadLarge: each part to S3 over XMLHttpRequest, completed whole', async () => {
    const bucket = await makeBucket({ maxObjectBytes: 64 * 1024 * 1024 });
    const partSize = 5 * 1024 * 1024;
    const grant = await storage.from(bucket).createMultipartUpload('video.bin', { partSize });
    const size = 3 * partSize + 1000;
    requests.length = 0;
    const outcome = await page.evaluate(
      async ({ grant, size }) => {
        const { uploadLarge } = window as unknown as PageGlobals;
        const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 10)) & 0xff);
        const sha256 = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (byte) =>
          byte.toString(16).padStart(2, '0'),
        ).join('');
        const object = await uploadLarge(grant, new Blob([bytes]));
        return { object, sha256 };
      },
      { grant: grant as MultipartGrant, size },
    );
    expect(outcome.object).toMatchObject({ key: 'video.bin', size, sha256: outcome.sha256 });
    expect(requests.filter((request) => request.startsWith('PUT'))).toEqual([
      'PUT S3 xhr',
      'PUT S3 xhr',
      'PUT S3 xhr',
      'PUT S3 xhr',
    ]);
  }, 60_000);
});
