import { createHash } from 'node:crypto';
import {
  AbortError,
  ConfigurationError,
  ConflictError,
  NetworkError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitError,
  ServerError,
  ValidationError,
} from '@plinth/core';
import type { MultipartGrant } from '@plinth/protocol';
import { abortLarge, type UploadProgress, uploadLarge } from '@plinth/storage';
import { delay, HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { failure, grantFor, objectInfo, patterned, uploadId } from './fixtures/storage-client.js';

// uploadLarge over fetch (Node has no XMLHttpRequest) against a stand-in of the server's
// multipart routes that keeps the parts it gets, on its own disk or (`s3: true`) in a stand-in
// S3 bucket that the part URLs point to: what is sent, in what order and how many at once, what
// a resume skips, which failures are tried again, and how each way of failing ends.
const mock = useMockServer();
const uploadPath = `${apiUrl}/v1/storage/multipart/${uploadId}`;
const query = `?expires=4102444800&signature=${'s'.repeat(43)}`;
const s3Object = 'https://videos.s3.eu-west-1.amazonaws.test/staging/big.bin';
const s3Signature = 'f'.repeat(64);
/** A presigned S3 UploadPart URL, as the server signs one. */
const s3PartUrl = (n: number) =>
  `${s3Object}?partNumber=${n}&uploadId=s3-upload-1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=${s3Signature}`;
const partSize = 64 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function multipartGrant(contentTypes: string[] = []): MultipartGrant {
  return { url: `${uploadPath}${query}`, uploadId, partSize, expiresAt: '2100-01-01T00:00:00.000Z', contentTypes };
}

/** A part refusal in the server's envelope. */
const refusal = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ error: { code, message, requestId: 'req_server' } }, { status, headers });

/** A refusal as S3 words it, with the elements that must stay out of any message. */
const s3Refusal = (status: number, code: string, message: string) =>
  new HttpResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign><SignatureProvided>${s3Signature}</SignatureProvided><RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>`,
    { status, headers: { 'content-type': 'application/xml' } },
  );

interface ServerOptions {
  /** Parts the server has before the call. */
  had?: Map<number, Uint8Array>;
  state?: string;
  /** How long each part's handler holds on once it has the bytes. */
  holdMs?: number;
  /** A refusal (or a cut connection) for the `attempt`th PUT of part `n`, or undefined to take it. */
  onPut?: (n: number, attempt: number) => Response | undefined;
  /** The parts go to a stand-in S3 bucket, through presigned URLs, instead of the server. */
  s3?: boolean;
}

/** The server's multipart routes, recording what arrives. */
function serveMultipart({ had = new Map(), state = 'pending', holdMs = 0, onPut, s3 = false }: ServerOptions = {}) {
  const server = {
    parts: new Map(had),
    /** Part numbers in the order their PUTs arrived, every attempt. */
    puts: [] as number[],
    /** The part numbers of each `part-urls` request, in order. */
    urlBatches: [] as number[][],
    /** How many part PUTs had arrived when each `part-urls` request came. */
    putsBeforeBatch: [] as number[],
    /** The headers of every part PUT. */
    putHeaders: [] as Headers[],
    inFlight: 0,
    mostInFlight: 0,
    completions: [] as { contentType: string; parts: number }[],
    deletes: 0,
    /** The query string of every request: the signature must go with each. */
    queries: new Set<string>(),
  };
  mock.use(
    http.get(`${uploadPath}/parts`, ({ request }) => {
      server.queries.add(new URL(request.url).search);
      // S3 keeps no SHA-256 of a part.
      const parts = [...server.parts].map(([partNumber, bytes]) => ({
        partNumber,
        size: bytes.length,
        ...(s3 ? {} : { sha256: sha256(bytes) }),
      }));
      return HttpResponse.json({ parts: parts.sort((a, b) => a.partNumber - b.partNumber), partSize, state });
    }),
    http.post(`${uploadPath}/part-urls`, async ({ request }) => {
      server.queries.add(new URL(request.url).search);
      const { parts } = (await request.json()) as { parts: number[] };
      server.urlBatches.push(parts);
      server.putsBeforeBatch.push(server.puts.length);
      return HttpResponse.json({
        parts: parts.map((n) =>
          s3
            ? { partNumber: n, url: s3PartUrl(n), headers: {} }
            : {
                partNumber: n,
                url: `${uploadPath}/parts/${n}${query}`,
                headers: { 'content-type': 'application/octet-stream' },
              },
        ),
      });
    }),
    http.put(s3 ? s3Object : `${uploadPath}/parts/:n`, async ({ params, request }) => {
      const url = new URL(request.url);
      if (!s3) server.queries.add(url.search);
      const n = Number(s3 ? url.searchParams.get('partNumber') : params.n);
      server.puts.push(n);
      server.putHeaders.push(request.headers);
      server.mostInFlight = Math.max(server.mostInFlight, ++server.inFlight);
      try {
        const bytes = new Uint8Array(await request.arrayBuffer());
        if (holdMs) await delay(holdMs);
        const refused = onPut?.(n, server.puts.filter((m) => m === n).length);
        if (refused) return refused;
        server.parts.set(n, bytes);
        // S3 answers a part with nothing but its ETag.
        return s3
          ? new HttpResponse(null, { status: 200, headers: { etag: `"${n}"` } })
          : HttpResponse.json({ partNumber: n, size: bytes.length, sha256: sha256(bytes) });
      } finally {
        server.inFlight--;
      }
    }),
    http.post(`${uploadPath}/complete`, async ({ request }) => {
      server.queries.add(new URL(request.url).search);
      const body = (await request.json()) as { contentType: string; parts: number };
      server.completions.push(body);
      const joined = Buffer.concat(
        Array.from({ length: body.parts }, (_, i) => server.parts.get(i + 1) ?? new Uint8Array(0)),
      );
      return HttpResponse.json({
        object: { ...objectInfo(joined.length, body.contentType), sha256: sha256(joined) },
      });
    }),
    http.delete(uploadPath, ({ request }) => {
      server.queries.add(new URL(request.url).search);
      server.deletes++;
      return HttpResponse.json({ aborted: true });
    }),
  );
  return server;
}

/** A file of `parts` parts, the last one short. */
const fileOf = (parts: number, seed = 1) => patterned((parts - 1) * partSize + 1000, seed);
const pieceOf = (bytes: Uint8Array, n: number) => bytes.subarray((n - 1) * partSize, n * partSize);

function expectWellFormedProgress(events: UploadProgress[], size: number) {
  expect(events.every((event) => event.total === size)).toBe(true);
  for (let i = 1; i < events.length; i++) {
    expect((events[i] as UploadProgress).loaded, `event ${i}`).toBeGreaterThan(
      (events[i - 1] as UploadProgress).loaded,
    );
  }
  expect(events.at(-1)).toEqual({ loaded: size, total: size });
}

describe('what goes out', () => {
  it('every part once, sliced exactly, the last first, then the completion with the count', async () => {
    const server = serveMultipart();
    const bytes = fileOf(5);
    const object = await uploadLarge(multipartGrant(), new Blob([bytes as BlobPart], { type: 'video/mp4' }), {
      concurrency: 1,
    });
    expect(server.puts).toEqual([5, 1, 2, 3, 4]);
    for (let n = 1; n <= 5; n++) {
      expect(Buffer.from(server.parts.get(n) ?? []).equals(Buffer.from(pieceOf(bytes, n))), `part ${n}`).toBe(true);
    }
    expect(server.completions).toEqual([{ contentType: 'video/mp4', parts: 5 }]);
    expect(object).toMatchObject({ size: bytes.length, sha256: sha256(bytes), contentType: 'video/mp4' });
    expect([...server.queries]).toEqual([query]);
    for (const request of mock.requests) {
      expect(request.headers.get('authorization')).toBeNull();
      expect(request.headers.get('cookie')).toBeNull();
      expect(request.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it.each([
    ['a Uint8Array that views part of a larger buffer', (bytes: Uint8Array) => bytes],
    ['an ArrayBuffer', (bytes: Uint8Array) => bytes.slice().buffer],
  ])('%s: only its bytes', async (_, bodyOf) => {
    const server = serveMultipart();
    const whole = patterned(3 * partSize + 500, 3);
    const viewed = whole.subarray(100, 100 + 2 * partSize + 7);
    const object = await uploadLarge(multipartGrant(), bodyOf(viewed));
    expect(object.sha256).toBe(sha256(viewed));
    expect(server.completions).toEqual([{ contentType: 'application/octet-stream', parts: 3 }]);
    expect(server.parts.get(3)?.length).toBe(7);
  });

  it('a file of exactly one part', async () => {
    const server = serveMultipart();
    const bytes = patterned(partSize);
    expect((await uploadLarge(multipartGrant(), bytes)).sha256).toBe(sha256(bytes));
    expect(server.puts).toEqual([1]);
  });

  it.each([
    [
      'the grant’s, when it allows one type, whatever else is said',
      ['image/png'],
      'text/plain',
      'text/html',
      'image/png',
    ],
    [
      'the option’s, when the grant allows several',
      ['image/png', 'text/plain'],
      'text/plain',
      'image/png',
      'text/plain',
    ],
    ['the Blob’s, without its parameters', [], undefined, 'text/plain;charset=utf-8', 'text/plain'],
    ['application/octet-stream, when nothing says', [], undefined, '', 'application/octet-stream'],
  ])('content type: %s', async (_, contentTypes, contentType, blobType, sent) => {
    const server = serveMultipart();
    await uploadLarge(multipartGrant(contentTypes), new Blob([fileOf(2) as BlobPart], { type: blobType }), {
      contentType,
    });
    expect(server.completions[0]?.contentType).toBe(sent);
  });
});

describe('resume', () => {
  it('sends only the parts the server lacks, or has at another size, and counts the rest as loaded', async () => {
    const bytes = fileOf(6);
    const had = new Map([
      [1, pieceOf(bytes, 1)],
      [3, pieceOf(bytes, 3)],
      // Cut short by an earlier attempt: sent again.
      [4, pieceOf(bytes, 4).subarray(0, 100)],
      // Past the end of this file: left alone, as completion joins only parts 1 to 6.
      [9, patterned(10)],
    ]);
    const server = serveMultipart({ had });
    const events: UploadProgress[] = [];
    const object = await uploadLarge(multipartGrant(), bytes, { onProgress: (event) => events.push(event) });
    expect(server.puts.sort((a, b) => a - b)).toEqual([2, 4, 5, 6]);
    expect(object.sha256).toBe(sha256(bytes));
    expect(events[0]).toEqual({ loaded: 2 * partSize, total: bytes.length });
    expectWellFormedProgress(events, bytes.length);
  });

  it('with every part there, only completes, and reports the total once', async () => {
    const bytes = fileOf(3);
    const server = serveMultipart({ had: new Map([1, 2, 3].map((n) => [n, pieceOf(bytes, n)])) });
    const events: UploadProgress[] = [];
    await uploadLarge(multipartGrant(), bytes, { onProgress: (event) => events.push(event) });
    expect(server.puts).toEqual([]);
    expect(server.completions).toHaveLength(1);
    expect(events).toEqual([{ loaded: bytes.length, total: bytes.length }]);
  });

  it('after an abort: AbortError, no DELETE, the parts kept, and the next call sends the rest', async () => {
    const server = serveMultipart({ holdMs: 20 });
    const bytes = fileOf(10);
    const controller = new AbortController();
    const aborted = await failure(
      uploadLarge(multipartGrant(), bytes, {
        concurrency: 2,
        signal: controller.signal,
        onProgress: ({ loaded }) => {
          // With two parts in flight, four parts' bytes out means at least two are done.
          if (loaded >= 4 * partSize) controller.abort();
        },
      }),
    );
    expect(aborted).toBeInstanceOf(AbortError);
    expect(aborted).toMatchObject({ code: 'aborted', isAbort: true });
    expect(aborted.message).toContain('again with the same grant and file');
    expect(aborted.message).not.toContain('signature');
    expect(server.deletes).toBe(0);
    expect(server.completions).toHaveLength(0);
    // A part whose bytes had all arrived may still land: let the stand-in server settle.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const kept = [...server.parts.keys()];
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(10);
    server.puts.length = 0;
    const object = await uploadLarge(multipartGrant(), bytes);
    expect(object.sha256).toBe(sha256(bytes));
    expect(server.puts.filter((n) => kept.includes(n))).toEqual([]);
    expect(server.puts.length).toBe(10 - kept.length);
  });

  it('an upload that is not open: ConflictError saying what to do, and nothing sent', async () => {
    const server = serveMultipart({ state: 'committed' });
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2)));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('committed');
    expect(error.message).toContain('info(key)');
    expect(server.puts).toEqual([]);
  });
});

describe('concurrency', () => {
  it.each([
    [3, 3],
    [undefined, 4],
    [1, 1],
  ])('concurrency %s: at most %i parts in flight, and that many at once', async (concurrency, most) => {
    const server = serveMultipart({ holdMs: 60 });
    const bytes = fileOf(12);
    const object = await uploadLarge(multipartGrant(), bytes, { concurrency });
    expect(object.sha256).toBe(sha256(bytes));
    expect(server.mostInFlight).toBe(most);
    expect(server.puts).toHaveLength(12);
  });
});

describe('retries', () => {
  it.each([
    ['503 twice', (attempt: number) => (attempt <= 2 ? refusal(503, 'unavailable', 'Try again.') : undefined), 3],
    ['a cut connection twice', (attempt: number) => (attempt <= 2 ? HttpResponse.error() : undefined), 3],
    ['409 once', (attempt: number) => (attempt === 1 ? refusal(409, 'conflict', 'Busy.') : undefined), 2],
    ['429 once', (attempt: number) => (attempt === 1 ? refusal(429, 'rate_limited', 'Slow down.') : undefined), 2],
  ])('a part answered %s is sent again, and the upload completes', async (_, answer, attempts) => {
    const server = serveMultipart({ onPut: (n, attempt) => (n === 2 ? answer(attempt) : undefined) });
    const bytes = fileOf(3);
    const events: UploadProgress[] = [];
    const object = await uploadLarge(multipartGrant(), bytes, { onProgress: (event) => events.push(event) });
    expect(object.sha256).toBe(sha256(bytes));
    expect(server.puts.filter((n) => n === 2)).toHaveLength(attempts);
    expectWellFormedProgress(events, bytes.length);
  });

  it('gives up after `retries` more tries with the last error, and does not complete', async () => {
    const server = serveMultipart({ onPut: (n) => (n === 1 ? refusal(503, 'unavailable', 'Down.') : undefined) });
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2), { retries: 1 }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain('/parts/1');
    expect(error.message).toContain('Down.');
    expect(server.puts.filter((n) => n === 1)).toHaveLength(2);
    expect(server.completions).toHaveLength(0);
  });

  it('a cut connection every time: NetworkError saying to call again, without the signature', async () => {
    serveMultipart({ onPut: () => HttpResponse.error() });
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2), { retries: 0 }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain('again with the same grant and file');
    expect(error.message).not.toContain('signature');
  });

  it('does not wait out a Retry-After over a minute: RateLimitError at once', async () => {
    const server = serveMultipart({
      onPut: () => refusal(429, 'rate_limited', 'Slow down.', { 'retry-after': '3600' }),
    });
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2), { concurrency: 1 }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(3600);
    expect(server.puts).toEqual([2]);
  });

  it('does not send the completion again when its answer was lost: NetworkError', async () => {
    const server = serveMultipart();
    let completions = 0;
    mock.use(
      http.post(`${uploadPath}/complete`, () => {
        completions++;
        return HttpResponse.error();
      }),
    );
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2)));
    expect(error).toBeInstanceOf(NetworkError);
    expect(completions).toBe(1);
    expect(server.parts.size).toBe(2);
  });
});

describe('refusals stop the upload with the server’s class', () => {
  it.each([
    [400, 'validation_failed', 'partNumber: this upload takes at most 2 parts of 65536 bytes.', ValidationError],
    [
      403,
      'permission_denied',
      'This upload URL expired at 2026-01-01T00:00:00.000Z. Ask your server for a new one.',
      PermissionError,
    ],
    [413, 'payload_too_large', "The upload is over this URL's 65536-byte limit.", ValidationError],
  ] as const)('%i on a part: %s, tried once, nothing completed', async (status, code, message, errorClass) => {
    const server = serveMultipart({ onPut: (n) => (n === 3 ? refusal(status, code, message) : undefined) });
    const error = await failure(uploadLarge(multipartGrant(), fileOf(3), { concurrency: 1 }));
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ code, status, requestId: 'req_server' });
    expect(error.message).toContain(`${uploadPath}/parts/3`);
    expect(error.message).toContain(message);
    if (status === 413) expect(error.message).toContain('partSize');
    expect(error.message).not.toContain('signature');
    // The last part goes first, so a refusal of it stops the upload before the others are sent.
    expect(server.puts).toEqual([3]);
    expect(server.completions).toHaveLength(0);
  });

  it('a refused completion: the server’s error', async () => {
    serveMultipart();
    mock.use(
      http.post(`${uploadPath}/complete`, () =>
        refusal(400, 'validation_failed', 'The file is not of the type it was declared as.'),
      ),
    );
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2)));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('The file is not of the type it was declared as.');
  });

  it.each([
    ['a list that is not one', { ok: true }],
    ['a list without a part size', { parts: [], state: 'pending' }],
  ])('%s: ProtocolError naming createMultipartUpload()', async (_, body) => {
    mock.use(http.get(`${uploadPath}/parts`, () => HttpResponse.json(body)));
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toContain('createMultipartUpload()');
  });

  it('stops when onProgress throws, and rejects with what it threw', async () => {
    const server = serveMultipart();
    const mistake = new Error('progress bar gone');
    const thrown = await failure(
      uploadLarge(multipartGrant(), fileOf(4), {
        onProgress: ({ loaded }) => {
          if (loaded > 0) throw mistake;
        },
      }),
    );
    expect(thrown).toBe(mistake);
    expect(server.completions).toHaveLength(0);
  });
});

describe('part URLs', () => {
  it('asked for the parts the server lacks only, the last first, a hundred at a time, each batch when its parts go', async () => {
    const bytes = fileOf(205);
    const server = serveMultipart({ had: new Map([1, 2].map((n) => [n, pieceOf(bytes, n)])) });
    const object = await uploadLarge(multipartGrant(), bytes, { concurrency: 8 });
    expect(object.sha256).toBe(sha256(bytes));
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(server.urlBatches).toEqual([[205, ...range(3, 101)], range(102, 201), range(202, 204)]);
    expect(server.putsBeforeBatch).toEqual([0, 100, 200]);
    expect(server.puts).toHaveLength(203);
  });

  it('on the server: each PUT with the headers given and a request id', async () => {
    const server = serveMultipart();
    await uploadLarge(multipartGrant(), fileOf(2));
    expect(server.putHeaders).toHaveLength(2);
    for (const headers of server.putHeaders) {
      expect(headers.get('content-type')).toBe('application/octet-stream');
      expect(headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('to S3: each part to its presigned URL, with no header of the SDK’s, an empty 200 taken as stored, then completed on the server', async () => {
    const server = serveMultipart({ s3: true });
    const bytes = fileOf(4);
    const events: UploadProgress[] = [];
    const object = await uploadLarge(multipartGrant(), new Blob([bytes as BlobPart], { type: 'video/mp4' }), {
      concurrency: 1,
      onProgress: (event) => events.push(event),
    });
    expect(server.puts).toEqual([4, 1, 2, 3]);
    for (let n = 1; n <= 4; n++) {
      expect(Buffer.from(server.parts.get(n) ?? []).equals(Buffer.from(pieceOf(bytes, n))), `part ${n}`).toBe(true);
    }
    for (const headers of server.putHeaders) {
      expect(headers.get('x-request-id')).toBeNull();
      expect(headers.get('cookie')).toBeNull();
      expect(headers.get('authorization')).toBeNull();
    }
    expect(server.completions).toEqual([{ contentType: 'video/mp4', parts: 4 }]);
    expect(object).toMatchObject({ size: bytes.length, sha256: sha256(bytes) });
    expectWellFormedProgress(events, bytes.length);
  });

  it('to S3, resumed: the parts listed (with no SHA-256) are not sent again', async () => {
    const bytes = fileOf(3);
    const server = serveMultipart({ s3: true, had: new Map([[2, pieceOf(bytes, 2)]]) });
    const object = await uploadLarge(multipartGrant(), bytes);
    expect(object.sha256).toBe(sha256(bytes));
    expect(server.urlBatches).toEqual([[3, 1]]);
    expect(server.puts.sort()).toEqual([1, 3]);
  });

  it.each([
    [403, 'AccessDenied', 'Request has expired', PermissionError, 'permission_denied'],
    [404, 'NoSuchUpload', 'The specified upload does not exist.', NotFoundError, 'not_found'],
    [
      400,
      'EntityTooLarge',
      'Your proposed upload exceeds the maximum allowed size',
      ValidationError,
      'validation_failed',
    ],
  ] as const)(
    'S3 refusing a part with %i %s: its class, S3’s code and message, tried once, nothing completed',
    async (status, code, message, errorClass, plinthCode) => {
      const server = serveMultipart({
        s3: true,
        onPut: (n) => (n === 3 ? s3Refusal(status, code, message) : undefined),
      });
      const error = await failure(uploadLarge(multipartGrant(), fileOf(3), { concurrency: 1 }));
      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ status, code: plinthCode });
      expect(error.message).toContain(`PUT ${s3Object} (part 3,`);
      expect(error.message).toContain(`S3 refused it (${code}: ${message})`);
      expect(error.message).toContain('ask your server for a new grant');
      expect(error.message).not.toContain(s3Signature);
      expect(error.message).not.toContain('secret-ish');
      expect(error.message).not.toContain('X-Amz');
      expect(server.puts).toEqual([3]);
      expect(server.completions).toHaveLength(0);
    },
  );

  it.each([
    ['503 SlowDown', 503, 'SlowDown', 'Please reduce your request rate.'],
    ['500 InternalError', 500, 'InternalError', 'We encountered an internal error. Please try again.'],
  ])('S3 answering a part %s: sent again, and the upload completes', async (_, status, code, message) => {
    const server = serveMultipart({
      s3: true,
      onPut: (n, attempt) => (n === 2 && attempt <= 2 ? s3Refusal(status, code, message) : undefined),
    });
    const bytes = fileOf(3);
    const events: UploadProgress[] = [];
    const object = await uploadLarge(multipartGrant(), bytes, { onProgress: (event) => events.push(event) });
    expect(object.sha256).toBe(sha256(bytes));
    expect(server.puts.filter((n) => n === 2)).toHaveLength(3);
    expectWellFormedProgress(events, bytes.length);
  });

  it('S3 failing a part every time: ServerError with S3’s code once the retries are spent', async () => {
    const server = serveMultipart({
      s3: true,
      onPut: (n) => (n === 1 ? s3Refusal(503, 'SlowDown', 'Slow.') : undefined),
    });
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2), { retries: 1 }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain('SlowDown');
    expect(server.puts.filter((n) => n === 1)).toHaveLength(2);
    expect(server.completions).toHaveLength(0);
  });

  it('a part-urls request answered 503 is sent again', async () => {
    const server = serveMultipart();
    let asked = 0;
    mock.use(
      http.post(`${uploadPath}/part-urls`, () =>
        ++asked === 1 ? refusal(503, 'unavailable', 'Try again.') : undefined,
      ),
    );
    const bytes = fileOf(2);
    expect((await uploadLarge(multipartGrant(), bytes)).sha256).toBe(sha256(bytes));
    expect(asked).toBe(2);
    expect(server.puts.sort()).toEqual([1, 2]);
  });

  it('a part-urls refusal stops the upload with the server’s error, nothing sent', async () => {
    const server = serveMultipart();
    mock.use(
      http.post(`${uploadPath}/part-urls`, () =>
        refusal(
          403,
          'permission_denied',
          'This upload URL expired at 2026-01-01T00:00:00.000Z. Ask your server for a new one.',
        ),
      ),
    );
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2)));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain('Ask your server for a new one');
    expect(server.puts).toEqual([]);
  });

  it('a part-urls answer without a URL for every part asked: ProtocolError, nothing sent', async () => {
    const server = serveMultipart();
    mock.use(
      http.post(`${uploadPath}/part-urls`, () =>
        HttpResponse.json({ parts: [{ partNumber: 2, url: `${uploadPath}/parts/2${query}`, headers: {} }] }),
      ),
    );
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toContain('part-urls');
    expect(error.message).toContain('createMultipartUpload()');
    expect(server.puts).toEqual([]);
  });
});

describe('hostile input, refused before any request', () => {
  it.each([
    ['no grant', undefined, 'createMultipartUpload()'],
    ['a single-upload grant', grantFor(), 'partSize'],
    ['a javascript: URL', { ...multipartGrant(), url: 'javascript:alert(1)' }, 'createMultipartUpload()'],
  ])('%s: ConfigurationError', async (_, grant, says) => {
    const error = await failure(uploadLarge(grant as unknown as MultipartGrant, fileOf(2)));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain(says);
    expect(mock.requests).toHaveLength(0);
  });

  it.each([
    ['an empty file', new Uint8Array(0), 'empty'],
    ['a string', 'hello', 'string'],
    ['a stream', new Blob(['x']).stream(), 'ReadableStream'],
  ])('%s: ValidationError', async (_, file, says) => {
    const error = await failure(uploadLarge(multipartGrant(), file as unknown as Uint8Array));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ details: { field: 'file' } });
    expect(error.message).toContain(says);
    expect(mock.requests).toHaveLength(0);
  });

  it.each([
    { concurrency: 0 },
    { concurrency: 17 },
    { concurrency: 1.5 },
    { concurrency: Number.NaN },
    { retries: -1 },
    { retries: 11 },
  ])('%o: ConfigurationError naming the range', async (options) => {
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2), options));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/must be a whole number from \d+ to \d+/);
    expect(mock.requests).toHaveLength(0);
  });

  it('a signal aborted before the call: AbortError, and no request', async () => {
    serveMultipart();
    const controller = new AbortController();
    controller.abort();
    const error = await failure(uploadLarge(multipartGrant(), fileOf(2), { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortError);
    expect(mock.requests).toHaveLength(0);
  });
});

describe('abortLarge', () => {
  it('sends DELETE to the signed URL and resolves to whether there was an upload to drop', async () => {
    const server = serveMultipart();
    expect(await abortLarge(multipartGrant())).toBe(true);
    expect(server.deletes).toBe(1);
    expect(mock.requests[0]?.method).toBe('DELETE');
    expect(mock.requests[0]?.url).toBe(`${uploadPath}${query}`);
    mock.use(http.delete(uploadPath, () => HttpResponse.json({ aborted: false })));
    expect(await abortLarge(multipartGrant())).toBe(false);
  });

  it('a completed upload: the server’s ConflictError; no answer: NetworkError', async () => {
    mock.use(
      http.delete(uploadPath, () => refusal(409, 'conflict', 'This upload was completed; remove the object instead.')),
    );
    const completed = await failure(abortLarge(multipartGrant()));
    expect(completed).toBeInstanceOf(ConflictError);
    expect(completed.message).toBe('This upload was completed; remove the object instead.');
    mock.use(http.delete(uploadPath, () => HttpResponse.error()));
    const cut = await failure(abortLarge(multipartGrant()));
    expect(cut).toBeInstanceOf(NetworkError);
    expect(cut.message).toContain('abortLarge() again');
  });

  it('a single-upload grant: ConfigurationError, and no request', async () => {
    expect(await failure(abortLarge(grantFor() as unknown as MultipartGrant))).toBeInstanceOf(ConfigurationError);
    expect(mock.requests).toHaveLength(0);
  });
});
