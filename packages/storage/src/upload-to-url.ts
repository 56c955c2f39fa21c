import {
  AbortError,
  ConfigurationError,
  errorFromResponse,
  isPlinthError,
  NetworkError,
  ProtocolError,
  ValidationError,
} from '@plinth/core';
import type { ObjectInfo, UploadGrant } from '@plinth/protocol';

/** How far an upload is: bytes sent, of `total` (undefined while the size is unknown). */
export interface UploadProgress {
  readonly loaded: number;
  readonly total: number | undefined;
}

/** The bytes of an upload. A stream's size is known only once it has been read to its end. */
export type UploadBody = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array>;

/** Options of {@link uploadToUrl}. */
export interface UploadOptions {
  /**
   * Called as bytes go out, with `loaded` only ever growing; a successful upload's last call,
   * made once, has `loaded === total`. An error it throws stops the upload and is what the
   * call rejects with.
   */
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  /** Aborts the upload; the call then rejects with an `AbortError`. */
  signal?: AbortSignal | undefined;
  /**
   * The upload's content type when the grant does not fix one (it does when it allows exactly
   * one type). Default: a Blob's (a File's) `type`, else `application/octet-stream`.
   */
  contentType?: string | undefined;
}

/** An answer, as either sender reads it. */
interface Answer {
  status: number;
  text: string;
  header(name: string): string | null;
}

/** What went wrong that is not the network's fault: a bad chunk, or an error onProgress threw. */
interface Failure {
  error?: unknown;
}

// Fine-grained progress without a call per few bytes.
const sliceBytes = 64 * 1024;

const kindOf = (value: unknown) =>
  value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;

const isWhole = (body: unknown): body is Blob | ArrayBuffer | Uint8Array =>
  body instanceof Blob || body instanceof ArrayBuffer || body instanceof Uint8Array;

const sizeOf = (body: Blob | ArrayBuffer | Uint8Array) => (body instanceof Blob ? body.size : body.byteLength);

const refusedBody = (what: string) =>
  new ValidationError(
    `uploadToUrl(): ${what}; send a Blob (a File), an ArrayBuffer, a Uint8Array or a ReadableStream of Uint8Array (pipe text through a TextEncoderStream). Nothing was stored.`,
    { code: 'invalid_request', details: { field: 'body' } },
  );

function targetOf(grant: UploadGrant): URL {
  const url = (grant as Partial<UploadGrant> | null)?.url;
  let target: URL | undefined;
  try {
    target = new URL(url as string);
  } catch {
    // reported below
  }
  if (target?.protocol !== 'https:' && target?.protocol !== 'http:') {
    throw new ConfigurationError(
      `uploadToUrl() needs the grant your server got from createUploadUrl(), as it is (an object with an absolute url); got ${typeof url === 'string' ? `url ${url.slice(0, 40)}` : kindOf(grant)}.`,
      { code: 'invalid_configuration' },
    );
  }
  return target;
}

/** The next chunk of a stream as bytes, or undefined at its end; refuses a chunk that is not bytes. */
async function nextChunk(reader: ReadableStreamDefaultReader<unknown>, failure: Failure) {
  const { done, value } = await reader.read();
  if (done) return undefined;
  if (value instanceof Uint8Array) return value;
  failure.error ??= refusedBody(`the body stream gave a chunk of type ${kindOf(value)}`);
  await reader.cancel(failure.error).catch(() => {});
  throw failure.error;
}

/**
 * The body as a stream that hands fetch at most {@link sliceBytes} per pull and counts what it
 * took: with no read-ahead (high-water mark 0), what fetch has pulled is what it is sending.
 */
function countedStream(body: UploadBody, count: (loaded: number) => void, failure: Failure) {
  const reader = body instanceof Blob ? body.stream().getReader() : isWhole(body) ? undefined : body.getReader();
  let pending: Uint8Array =
    body instanceof ArrayBuffer ? new Uint8Array(body) : body instanceof Uint8Array ? body : new Uint8Array(0);
  let loaded = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (pending.length === 0) {
          const next = reader && (await nextChunk(reader, failure));
          if (!next) return controller.close();
          pending = next;
        }
        const chunk = pending.subarray(0, sliceBytes);
        pending = pending.subarray(chunk.length);
        loaded += chunk.length;
        controller.enqueue(chunk);
        count(loaded);
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

async function sendWithFetch(
  url: URL,
  headers: Record<string, string>,
  body: UploadBody,
  signal: AbortSignal,
  count: (loaded: number) => void,
  failure: Failure,
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'PUT',
    headers,
    body: countedStream(body, count, failure),
    // Required by fetch for a stream body: the answer may come only after the body is sent.
    duplex: 'half',
    // The URL is the credential: a user's cookies must not go with it.
    credentials: 'omit',
    signal,
  } as RequestInit);
  return { status: response.status, text: await response.text(), header: (name) => response.headers.get(name) };
}

/** A stream read into a Blob: XMLHttpRequest takes no stream, and a Blob may live on disk. */
async function blobOf(stream: ReadableStream<Uint8Array>, signal: AbortSignal, failure: Failure): Promise<Blob> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  const stop = () => reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (let part = await nextChunk(reader, failure); part; part = await nextChunk(reader, failure)) parts.push(part);
    return new Blob(parts as BlobPart[]);
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function sendWithXhr(
  url: URL,
  headers: Record<string, string>,
  body: Blob | ArrayBuffer | Uint8Array,
  signal: AbortSignal,
  count: (loaded: number) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const xhr = new XMLHttpRequest();
    const stop = () => xhr.abort();
    const settle = (outcome: () => void) => () => {
      signal.removeEventListener('abort', stop);
      outcome();
    };
    xhr.open('PUT', url.href);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => count(event.loaded);
    xhr.onload = settle(() =>
      resolve({ status: xhr.status, text: xhr.responseText, header: (name) => xhr.getResponseHeader(name) }),
    );
    xhr.onerror = settle(() => reject(new TypeError('the connection failed, or CORS refused the answer')));
    xhr.onabort = settle(() => reject(signal.reason));
    signal.addEventListener('abort', stop, { once: true });
    xhr.send(body as XMLHttpRequestBodyInit);
  });
}

function parsed(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Sends the bytes of one upload to the URL your server got from `createUploadUrl()`, and
 * resolves to the stored object once the server has checked them (size, declared type against
 * the bytes themselves, the grant's limits). Needs no key: the signed URL is the permission,
 * so this is the browser's half of an upload.
 *
 * In browsers it uses `XMLHttpRequest` for upload progress (a stream body is read into a Blob
 * first); elsewhere (Node, workers) `fetch` with a counted stream body.
 *
 * It never retries: a grant takes one upload. If the connection is cut part-way (a
 * `NetworkError`) or the call is aborted before the server finished, the server keeps nothing
 * and puts the grant back, so calling again with the same grant and body works until the grant
 * expires (right after a cut, a `ConflictError` says the server has not noticed it yet: wait a
 * moment). An answer with an error (an expired or used URL, bytes over the limit or not of the
 * declared type) rejects with the matching `PlinthError` and the server's message; ask your
 * server for a new grant then.
 *
 * @example
 * ```ts
 * import { uploadToUrl } from '@plinth/storage';
 *
 * const grant = await fetch('/api/avatar-upload-url', { method: 'POST' }).then((r) => r.json());
 * const controller = new AbortController();
 * cancelButton.onclick = () => controller.abort();
 * const object = await uploadToUrl(grant, fileInput.files[0], {
 *   onProgress: ({ loaded, total }) => (bar.value = total ? loaded / total : 0),
 *   signal: controller.signal,
 * });
 * console.log(object.key, object.size, object.sha256);
 * ```
 */
export async function uploadToUrl(
  grant: UploadGrant,
  body: UploadBody,
  options: UploadOptions = {},
): Promise<ObjectInfo> {
  const url = targetOf(grant);
  // Never the query string in a message: its signature is the permission to upload.
  const where = `PUT ${url.origin}${url.pathname}`;
  if (!isWhole(body) && typeof (body as Partial<ReadableStream> | null)?.getReader !== 'function') {
    throw refusedBody(`the body is ${kindOf(body)}`);
  }
  // Sent so the server logs the upload under the id an error carries; getRandomValues, unlike
  // randomUUID, exists on plain-http pages too.
  const requestId = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) =>
    byte.toString(16).padStart(2, '0'),
  ).join('');
  const headers: Record<string, string> = { ...grant.headers };
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['content-type'] = options.contentType || (body instanceof Blob && body.type) || 'application/octet-stream';
  }
  headers['x-request-id'] = requestId;

  const { onProgress, signal: callerSignal } = options;
  const failure: Failure = {};
  const controller = new AbortController();
  const abort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) abort();
  callerSignal?.addEventListener('abort', abort, { once: true });

  let total = isWhole(body) ? sizeOf(body) : undefined;
  let last: UploadProgress | undefined;
  const report = (sent: number) => {
    const loaded = total === undefined ? sent : Math.min(sent, total);
    // Only news: a browser may repeat an event, or count past the body.
    if (
      failure.error !== undefined ||
      (last && (loaded < last.loaded || (loaded === last.loaded && total === last.total)))
    )
      return;
    last = { loaded, total };
    try {
      onProgress?.(last);
    } catch (error) {
      failure.error ??= error;
      controller.abort(error);
    }
  };

  try {
    if (controller.signal.aborted) throw controller.signal.reason;
    let answer: Answer;
    if (typeof XMLHttpRequest === 'function') {
      const sendable = isWhole(body) ? body : await blobOf(body, controller.signal, failure);
      total = sizeOf(sendable);
      answer = await sendWithXhr(url, headers, sendable, controller.signal, report);
    } else {
      answer = await sendWithFetch(url, headers, body, controller.signal, report, failure);
    }
    const answered = parsed(answer.text);
    if (answer.status < 200 || answer.status > 299) {
      throw errorFromResponse(answer.status, answered, answer.header('retry-after'), requestId);
    }
    const object = (answered as { object?: ObjectInfo } | undefined)?.object;
    if (typeof object?.key !== 'string' || typeof object.size !== 'number') {
      throw new ProtocolError(
        `The answer to ${where} is not an uploaded object: is grant.url the URL your server got from createUploadUrl()?`,
        { code: 'invalid_response', status: answer.status, requestId },
      );
    }
    total = object.size;
    report(object.size);
    if (failure.error !== undefined) throw failure.error;
    return object;
  } catch (cause) {
    if (failure.error !== undefined) throw failure.error;
    if (callerSignal?.aborted) {
      throw new AbortError(`${where} was aborted by the caller; the same grant can be used again until it expires.`, {
        code: 'aborted',
        requestId,
        cause,
      });
    }
    if (isPlinthError(cause)) throw cause;
    throw new NetworkError(
      `${where} failed before an answer came (${cause instanceof Error ? cause.message : String(cause)}). Check the connection and call uploadToUrl() again with the same grant, which works until ${grant.expiresAt}: a cut upload stores nothing.`,
      { code: 'network_error', requestId, cause },
    );
  } finally {
    callerSignal?.removeEventListener('abort', abort);
  }
}
