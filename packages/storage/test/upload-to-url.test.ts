import {
  AbortError,
  ConfigurationError,
  ConflictError,
  NetworkError,
  PermissionError,
  ProtocolError,
  ValidationError,
} from '@plinth/core';
import type { UploadGrant } from '@plinth/protocol';
import { type UploadProgress, uploadToUrl } from '@plinth/storage';
import { delay, HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { failure, grantFor, objectInfo, patterned, streamOf, uploadId } from './fixtures/storage-client.js';

// uploadToUrl over fetch (Node has no XMLHttpRequest): what it sends, the progress it reports,
// and the error class and message for every way an upload can fail.
const mock = useMockServer();
const uploadPath = `${apiUrl}/v1/storage/uploads/${uploadId}`;

interface Received {
  headers: Headers;
  url: URL;
  bytes: Uint8Array;
}

/** Answers the upload the way the server does, with the bytes it got; records what arrived. */
function acceptUploads(contentType?: string): Received[] {
  const received: Received[] = [];
  mock.use(
    http.put(uploadPath, async ({ request }) => {
      const bytes = new Uint8Array(await request.arrayBuffer());
      received.push({ headers: request.headers, url: new URL(request.url), bytes });
      return HttpResponse.json({
        object: objectInfo(bytes.length, contentType ?? request.headers.get('content-type') ?? ''),
      });
    }),
  );
  return received;
}

function refuseUploads(status: number, code: string, message: string, details?: Record<string, unknown>) {
  mock.use(
    http.put(uploadPath, () =>
      HttpResponse.json(
        { error: { code, message, requestId: 'req_server', ...(details ? { details } : {}) } },
        { status },
      ),
    ),
  );
}

function expectWellFormedProgress(events: UploadProgress[], size: number) {
  const last = events.at(-1);
  expect(last).toEqual({ loaded: size, total: size });
  for (let i = 1; i < events.length; i++) {
    const [before, after] = [events[i - 1] as UploadProgress, events[i] as UploadProgress];
    expect(after.loaded, `event ${i}`).toBeGreaterThanOrEqual(before.loaded);
    expect(after.loaded === before.loaded && after.total === before.total, `event ${i} repeats`).toBe(false);
  }
  expect(events.filter((event) => event.loaded === size && event.total === size)).toHaveLength(1);
}

describe('what goes out', () => {
  it.each([
    ['a Uint8Array', (bytes: Uint8Array) => bytes],
    ['an ArrayBuffer', (bytes: Uint8Array) => bytes.slice().buffer],
    ['a Blob', (bytes: Uint8Array) => new Blob([bytes as BlobPart])],
    ['a ReadableStream', (bytes: Uint8Array) => streamOf([bytes.subarray(0, 1000), bytes.subarray(1000)])],
  ] as const)(
    '%s: its bytes exactly, to the signed URL, with the grant’s headers and no credentials',
    async (_, bodyOf) => {
      const received = acceptUploads();
      const bytes = patterned(300_000);
      const grant = grantFor();
      const object = await uploadToUrl(grant, bodyOf(bytes));
      expect(object).toEqual(objectInfo(bytes.length));
      expect(received).toHaveLength(1);
      const [{ headers, url, bytes: arrived }] = received as [Received];
      expect(url.href).toBe(grant.url);
      expect(headers.get('content-type')).toBe('image/png');
      expect(headers.get('authorization')).toBeNull();
      expect(headers.get('apikey')).toBeNull();
      expect(headers.get('cookie')).toBeNull();
      expect(headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      expect(Buffer.from(arrived).equals(Buffer.from(bytes))).toBe(true);
    },
  );

  it('sends only the bytes a Uint8Array views, not the whole buffer under it', async () => {
    const received = acceptUploads();
    const whole = patterned(10_000);
    await uploadToUrl(grantFor(), whole.subarray(100, 200));
    expect(Buffer.from(received[0]?.bytes ?? []).equals(Buffer.from(whole.subarray(100, 200)))).toBe(true);
  });

  it('sends an empty body as zero bytes', async () => {
    const received = acceptUploads();
    const events: UploadProgress[] = [];
    await uploadToUrl(grantFor(), new Uint8Array(0), { onProgress: (event) => events.push(event) });
    expect(received[0]?.bytes.length).toBe(0);
    expect(events).toEqual([{ loaded: 0, total: 0 }]);
  });

  it.each([
    ['the grant’s, whatever else is said', { 'Content-Type': 'image/png' }, 'text/plain', 'text/plain', 'image/png'],
    ['the option’s, when the grant fixes none', {}, 'image/webp', 'text/plain', 'image/webp'],
    ['the Blob’s, when neither says', {}, undefined, 'image/gif', 'image/gif'],
    ['application/octet-stream, when nothing says', {}, undefined, '', 'application/octet-stream'],
  ])('content type: %s', async (_, grantHeaders, contentType, blobType, sent) => {
    const received = acceptUploads();
    await uploadToUrl(grantFor(grantHeaders), new Blob(['x'], { type: blobType }), { contentType });
    expect(received[0]?.headers.get('content-type')).toBe(sent);
  });
});

describe('progress', () => {
  it('is reported in slices as fetch pulls the bytes, growing, and once at the total', async () => {
    acceptUploads();
    const size = 1024 * 1024 + 17;
    const events: UploadProgress[] = [];
    await uploadToUrl(grantFor(), patterned(size), { onProgress: (event) => events.push(event) });
    expect(events.length).toBeGreaterThanOrEqual(16);
    expect(events.every((event) => event.total === size)).toBe(true);
    expectWellFormedProgress(events, size);
  });

  it('has no total while a stream is read, and reports it at the end', async () => {
    acceptUploads();
    const parts = [patterned(200_000, 1), new Uint8Array(0), patterned(5, 2), patterned(70_000, 3)];
    const size = 270_005;
    const events: UploadProgress[] = [];
    await uploadToUrl(grantFor(), streamOf(parts), { onProgress: (event) => events.push(event) });
    expect(events.slice(0, -1).every((event) => event.total === undefined)).toBe(true);
    // 200 000 bytes in 64 KiB slices, then the 5, then 70 000 in two.
    expect(events.slice(0, -1).map((event) => event.loaded)).toEqual([
      65_536, 131_072, 196_608, 200_000, 200_005, 265_541, 270_005,
    ]);
    expectWellFormedProgress(events, size);
  });

  it('reaches the bytes sent once, also for an upload the server then refused', async () => {
    refuseUploads(413, 'payload_too_large', 'The upload is over this URL’s 100-byte limit.', { field: 'body' });
    const events: UploadProgress[] = [];
    await failure(uploadToUrl(grantFor(), patterned(1000), { onProgress: (event) => events.push(event) }));
    expect(events.some((event) => event.loaded === 1000 && event.total === 1000)).toBe(true);
    expect(events.filter((event) => event.loaded === 1000)).toHaveLength(1);
  });

  it('stops the upload when onProgress throws, and rejects with what it threw', async () => {
    acceptUploads();
    const mistake = new Error('progress bar gone');
    const thrown = await failure(
      uploadToUrl(grantFor(), patterned(500_000), {
        onProgress: () => {
          throw mistake;
        },
      }),
    );
    expect(thrown).toBe(mistake);
  });
});

describe('abort', () => {
  it('with a signal aborted before the call: AbortError, and no request', async () => {
    acceptUploads();
    const controller = new AbortController();
    controller.abort();
    const error = await failure(uploadToUrl(grantFor(), patterned(10), { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ code: 'aborted', isAbort: true });
    expect(mock.requests).toHaveLength(0);
  });

  it('part-way through the bytes: AbortError saying the grant can be used again', async () => {
    acceptUploads();
    const controller = new AbortController();
    const error = await failure(
      uploadToUrl(grantFor(), patterned(2_000_000), {
        signal: controller.signal,
        onProgress: ({ loaded }) => {
          if (loaded >= 200_000) controller.abort();
        },
      }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(error.message).toMatch(/aborted by the caller.*again with the same grant/);
    expect(error.message).not.toContain('signature');
  });

  it('while waiting for the answer: AbortError', async () => {
    mock.use(
      http.put(uploadPath, async ({ request }) => {
        await request.arrayBuffer();
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const controller = new AbortController();
    const pending = failure(uploadToUrl(grantFor(), patterned(1000), { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toBeInstanceOf(AbortError);
  });
});

describe('refusals: the server’s class, code and message', () => {
  it.each([
    [
      403,
      'permission_denied',
      'This URL expired at 2026-01-01T00:00:00.000Z. Ask your server for a new one.',
      PermissionError,
    ],
    [
      403,
      'permission_denied',
      'This upload URL was already used; each takes one upload. Ask your server for a new one.',
      PermissionError,
    ],
    [413, 'payload_too_large', 'The upload is over this URL’s 100-byte limit.', ValidationError],
    [
      409,
      'conflict',
      'This upload URL is being used by another request right now; it takes one upload.',
      ConflictError,
    ],
  ] as const)('%i %s', async (status, code, message, errorClass) => {
    refuseUploads(status, code, message, status === 413 ? { field: 'body', limit: 100 } : undefined);
    const error = await failure(uploadToUrl(grantFor(), patterned(1000)));
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ code, message, status, requestId: 'req_server' });
    if (status === 413) expect(error).toMatchObject({ details: { field: 'body', limit: 100 } });
  });

  it('a 413 from a proxy (HTML, no envelope): ValidationError saying a proxy answered', async () => {
    mock.use(
      http.put(uploadPath, () =>
        HttpResponse.html('<html><body>413 Request Entity Too Large</body></html>', { status: 413 }),
      ),
    );
    const error = await failure(uploadToUrl(grantFor(), patterned(1000)));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/proxy/);
    expect((error as ValidationError).requestId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a 200 that is not an upload answer: ProtocolError', async () => {
    mock.use(http.put(uploadPath, () => HttpResponse.json({ ok: true })));
    const error = await failure(uploadToUrl(grantFor(), patterned(10)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toContain('createUploadUrl()');
  });

  it('no answer at all: NetworkError saying to call again with the same grant, without the signature', async () => {
    mock.use(http.put(uploadPath, () => HttpResponse.error()));
    const grant = grantFor();
    const error = await failure(uploadToUrl(grant, patterned(10)));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain(`PUT ${apiUrl}/v1/storage/uploads/${uploadId} failed`);
    expect(error.message).toContain('again with the same grant');
    expect(error.message).not.toContain(new URL(grant.url).searchParams.get('signature') as string);
  });
});

describe('hostile input, refused before any request', () => {
  it.each([
    ['no grant', undefined],
    ['the answer wrapping the grant', { grant: grantFor() }],
    ['a relative URL', { ...grantFor(), url: '/v1/storage/uploads/x' }],
    ['a javascript: URL', { ...grantFor(), url: 'javascript:alert(1)' }],
    ['a URL that is not a string', { ...grantFor(), url: 42 }],
  ])('%s: ConfigurationError', async (_, grant) => {
    const error = await failure(uploadToUrl(grant as unknown as UploadGrant, patterned(10)));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('createUploadUrl()');
    expect(mock.requests).toHaveLength(0);
  });

  it.each([
    ['a string', 'hello'],
    ['null', null],
    ['a plain object', { bytes: [1, 2] }],
    ['a Node Buffer’s JSON', JSON.parse(JSON.stringify(Buffer.from('x')))],
  ])('a body that is %s: ValidationError naming what it got', async (_, body) => {
    const error = await failure(uploadToUrl(grantFor(), body as unknown as Uint8Array));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ details: { field: 'body' } });
    expect(error.message).toMatch(/Blob .*ArrayBuffer.*Uint8Array.*a stream of Uint8Array/);
    expect(mock.requests).toHaveLength(0);
  });

  it('a stream that gives strings: ValidationError, and the stream is cancelled', async () => {
    acceptUploads();
    let cancelled: unknown;
    const stream = new ReadableStream({
      pull: (controller) => controller.enqueue('text'),
      cancel: (reason) => {
        cancelled = reason;
      },
    });
    const error = await failure(uploadToUrl(grantFor(), stream as unknown as ReadableStream<Uint8Array>));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('TextEncoderStream');
    expect(cancelled).toBe(error);
  });
});
