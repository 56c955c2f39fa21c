import { AbortError, NetworkError, PermissionError, ValidationError } from '@plinth/core';
import type { UploadGrant } from '@plinth/protocol';
import { type UploadProgress, uploadToUrl } from '@plinth/storage';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { grantFor, objectInfo, patterned, streamOf } from './fixtures/storage-client.js';

// The browser path: where XMLHttpRequest exists, uploadToUrl uses it (fetch has no upload
// progress in browsers). A stand-in XMLHttpRequest records what it is asked to do and lets the
// test play the browser's part: progress events, the answer, an error or an abort, each followed
// by loadend, as a browser fires it.

class FakeXhr {
  static made: FakeXhr[] = [];
  readonly upload: { onprogress: ((event: { loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  onloadend: (() => void) | null = null;
  status = 0;
  responseText = '';
  method = '';
  url = '';
  body: unknown;
  sent = false;
  aborted = false;
  readonly requestHeaders: Record<string, string> = {};
  private responseHeaders: Record<string, string> = {};

  constructor() {
    FakeXhr.made.push(this);
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.requestHeaders[name] = value;
  }
  send(body: unknown) {
    this.body = body;
    this.sent = true;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
    this.onloadend?.();
  }
  getResponseHeader(name: string): string | null {
    return this.responseHeaders[name.toLowerCase()] ?? null;
  }
  /** The browser's part: the upload's progress events. */
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total });
  }
  /** The browser's part: the answer arrived. */
  respond(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
    this.onloadend?.();
  }
  /** The browser's part: the connection failed, or CORS kept the answer from the page. */
  fail() {
    this.onerror?.();
    this.onloadend?.();
  }
}

/** The one XHR the call made, once it has sent. */
async function sentXhr(): Promise<FakeXhr> {
  await vi.waitFor(() => expect(FakeXhr.made[0]?.sent).toBe(true));
  expect(FakeXhr.made).toHaveLength(1);
  return FakeXhr.made[0] as FakeXhr;
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error as Error,
  );

beforeEach(() => {
  FakeXhr.made = [];
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  // fetch must not be used when XMLHttpRequest is there.
  vi.stubGlobal('fetch', () => {
    throw new Error('fetch was called');
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('uploadToUrl with XMLHttpRequest', () => {
  it('PUTs the body as given to the signed URL with the grant’s headers, and resolves to the object', async () => {
    const grant = grantFor();
    const body = new Blob([patterned(1000) as BlobPart], { type: 'image/png' });
    const upload = uploadToUrl(grant, body);
    const xhr = await sentXhr();
    expect(xhr.method).toBe('PUT');
    expect(xhr.url).toBe(grant.url);
    expect(xhr.requestHeaders['content-type']).toBe('image/png');
    expect(xhr.requestHeaders['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(xhr.requestHeaders).sort()).toEqual(['content-type', 'x-request-id']);
    expect(xhr.body).toBe(body);
    xhr.respond(200, { object: objectInfo(1000) });
    expect(await upload).toEqual(objectInfo(1000));
  });

  it('reports the browser’s progress, growing, clamped to the total, and once at the total', async () => {
    const events: UploadProgress[] = [];
    const upload = uploadToUrl(grantFor(), patterned(1000), { onProgress: (event) => events.push(event) });
    const xhr = await sentXhr();
    for (const loaded of [100, 100, 50, 600, 1000, 1200]) xhr.progress(loaded, 1000);
    xhr.respond(200, { object: objectInfo(1000) });
    await upload;
    expect(events).toEqual([
      { loaded: 100, total: 1000 },
      { loaded: 600, total: 1000 },
      { loaded: 1000, total: 1000 },
    ]);
  });

  it('reports the end once when the browser sent no progress at the total', async () => {
    const events: UploadProgress[] = [];
    const upload = uploadToUrl(grantFor(), patterned(1000), { onProgress: (event) => events.push(event) });
    const xhr = await sentXhr();
    xhr.progress(400, 1000);
    xhr.respond(200, { object: objectInfo(1000) });
    await upload;
    expect(events).toEqual([
      { loaded: 400, total: 1000 },
      { loaded: 1000, total: 1000 },
    ]);
  });

  it('reads a stream into one Blob first (XMLHttpRequest takes none), so its total is known', async () => {
    const parts = [patterned(70_000, 1), patterned(3, 2), patterned(500, 3)];
    const events: UploadProgress[] = [];
    const upload = uploadToUrl(grantFor(), streamOf(parts), { onProgress: (event) => events.push(event) });
    const xhr = await sentXhr();
    expect(xhr.body).toBeInstanceOf(Blob);
    const sent = new Uint8Array(await (xhr.body as Blob).arrayBuffer());
    expect(Buffer.from(sent).equals(Buffer.concat(parts))).toBe(true);
    xhr.progress(10_000, 70_503);
    xhr.respond(200, { object: objectInfo(70_503) });
    await upload;
    expect(events).toEqual([
      { loaded: 10_000, total: 70_503 },
      { loaded: 70_503, total: 70_503 },
    ]);
  });

  it('aborts the request on the signal and rejects with AbortError', async () => {
    const controller = new AbortController();
    const upload = failure(uploadToUrl(grantFor(), patterned(1000), { signal: controller.signal }));
    const xhr = await sentXhr();
    controller.abort();
    expect(xhr.aborted).toBe(true);
    expect(await upload).toBeInstanceOf(AbortError);
  });

  it('sends nothing for a stream aborted while it is read', async () => {
    const controller = new AbortController();
    let pulls = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull: async (stream) => {
        if (++pulls === 3) controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 1));
        stream.enqueue(patterned(10));
      },
    });
    const error = await failure(uploadToUrl(grantFor(), endless, { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortError);
    expect(FakeXhr.made).toHaveLength(0);
  });

  it('rejects with the server’s error for a refusal', async () => {
    const upload = failure(uploadToUrl(grantFor(), patterned(10)));
    const xhr = await sentXhr();
    xhr.respond(
      403,
      {
        error: {
          code: 'permission_denied',
          message: 'This URL expired at 2026-01-01T00:00:00.000Z. Ask your server for a new one.',
          requestId: 'req_server',
        },
      },
      { 'content-type': 'application/json' },
    );
    const error = await upload;
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toBe('This URL expired at 2026-01-01T00:00:00.000Z. Ask your server for a new one.');
  });

  it('rejects with NetworkError when the browser reports a failed connection', async () => {
    const upload = failure(uploadToUrl(grantFor(), patterned(10)));
    const xhr = await sentXhr();
    xhr.fail();
    const error = await upload;
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain('CORS');
    expect(error.message).toContain('again with the same grant');
  });

  it('stops and rejects with what onProgress threw', async () => {
    const mistake = new Error('no progress bar');
    const upload = failure(
      uploadToUrl(grantFor(), patterned(1000), {
        onProgress: () => {
          throw mistake;
        },
      }),
    );
    const xhr = await sentXhr();
    xhr.progress(10, 1000);
    expect(xhr.aborted).toBe(true);
    expect(await upload).toBe(mistake);
  });

  it('refuses a stream of strings before sending anything', async () => {
    const strings = new ReadableStream({ pull: (controller) => controller.enqueue('text') });
    const error = await failure(uploadToUrl(grantFor(), strings as unknown as ReadableStream<Uint8Array>));
    expect(error).toBeInstanceOf(ValidationError);
    expect(FakeXhr.made).toHaveLength(0);
  });
});

describe('uploadToUrl with XMLHttpRequest and a POST grant (S3)', () => {
  const grant: UploadGrant = {
    url: 'https://avatars.s3.eu-west-1.amazonaws.test/',
    method: 'POST',
    headers: {},
    fields: { key: 'staging/x', 'Content-Type': 'image/png', Policy: 'cG9saWN5', 'X-Amz-Signature': 'e'.repeat(64) },
    completeUrl: `https://api.plinth.test/v1/storage/uploads/x/complete?signature=${'c'.repeat(43)}`,
    expiresAt: '2100-01-01T00:00:00.000Z',
    uploadId: 'x',
  };

  /** The completion, over fetch: what it was asked, and its answer. */
  function completeWith(answer: () => Response) {
    const requests: Request[] = [];
    vi.stubGlobal('fetch', async (input: string, init: RequestInit) => {
      requests.push(new Request(input, init));
      return answer();
    });
    return requests;
  }

  it('POSTs the form with no header of its own, counts progress clamped to the file, then completes once', async () => {
    const completions = completeWith(() => Response.json({ object: objectInfo(1000) }));
    const events: UploadProgress[] = [];
    const upload = uploadToUrl(grant, patterned(1000), { onProgress: (event) => events.push(event) });
    const xhr = await sentXhr();
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe(grant.url);
    expect(xhr.requestHeaders).toEqual({});
    const form = xhr.body as FormData;
    expect(form).toBeInstanceOf(FormData);
    expect([...form.keys()]).toEqual(['key', 'Content-Type', 'Policy', 'X-Amz-Signature', 'file']);
    const file = form.get('file') as File;
    expect(file.type).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(patterned(1000)))).toBe(true);
    // The browser counts the whole form: the fields first, so past the file's size at the end.
    for (const loaded of [300, 900, 1400, 1400]) xhr.progress(loaded, 1400);
    expect(completions).toHaveLength(0);
    xhr.respond(204, '');
    expect(await upload).toEqual(objectInfo(1000));
    expect(events).toEqual([
      { loaded: 300, total: 1000 },
      { loaded: 900, total: 1000 },
      { loaded: 1000, total: 1000 },
    ]);
    expect(completions).toHaveLength(1);
    const [completion] = completions as [Request];
    expect(completion.method).toBe('POST');
    expect(completion.url).toBe(grant.completeUrl);
    expect(completion.credentials).toBe('omit');
    expect(completion.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('rejects with S3’s refusal as its class, and does not complete', async () => {
    const completions = completeWith(() => Response.json({ object: objectInfo(1000) }));
    const upload = failure(uploadToUrl(grant, patterned(10)));
    const xhr = await sentXhr();
    xhr.respond(
      403,
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message><RequestId>1</RequestId></Error>',
      { 'content-type': 'application/xml' },
    );
    const error = await upload;
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain('S3 refused it (AccessDenied: Invalid according to Policy: Policy expired.)');
    expect(error.message).toContain('new grant');
    expect(completions).toHaveLength(0);
  });
});
