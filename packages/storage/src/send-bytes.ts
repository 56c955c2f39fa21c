import {
  AbortError,
  ConfigurationError,
  errorFromResponse,
  isPlinthError,
  NetworkError,
  ProtocolError,
  ValidationError,
} from '@plinth/core';
import type { UploadBody, UploadProgress } from './upload-to-url.js';

// How bytes go out to a signed URL with progress, shared by uploadToUrl (one request) and
// uploadLarge (one request per part): XMLHttpRequest in browsers, fetch elsewhere.

/** An answer, as either sender reads it. */
export interface Answer {
  status: number;
  text: string;
  header(name: string): string | null;
}

/** What went wrong that is not the network's fault: a bad chunk, or an error onProgress threw. */
export interface Failure {
  error?: unknown;
}

/**
 * Starts an upload call that follows `callerSignal` (the caller's abort reaches every request of
 * the call) and reports to `onProgress`. Gives the call's signal; what stopped it that was not
 * the network's fault; `stop(error)`, which stops every request of the call (the first error
 * given is what the call rejects with); `tell(progress)`, which calls onProgress and stops the
 * call with what it throws; and `end()`, which stops following the caller's signal.
 */
export function startCall(
  callerSignal: AbortSignal | undefined,
  onProgress: ((progress: UploadProgress) => void) | undefined,
) {
  const controller = new AbortController();
  const failure: Failure = {};
  const abort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) abort();
  callerSignal?.addEventListener('abort', abort, { once: true });
  const stop = (error: unknown) => {
    failure.error ??= error;
    controller.abort(error);
  };
  const tell = (progress: UploadProgress) => {
    try {
      onProgress?.(progress);
    } catch (error) {
      stop(error);
    }
  };
  // A tuple: the names are the caller's, and a browser bundle carries none of them.
  return [controller.signal, failure, stop, tell, () => callerSignal?.removeEventListener('abort', abort)] as const;
}

// Fine-grained progress without a call per few bytes.
const sliceBytes = 64 * 1024;

export const kindOf = (value: unknown) =>
  value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;

export const isWhole = (body: unknown): body is Blob | ArrayBuffer | Uint8Array =>
  body instanceof Blob || body instanceof ArrayBuffer || body instanceof Uint8Array;

export const sizeOf = (body: Blob | ArrayBuffer | Uint8Array) => (body instanceof Blob ? body.size : body.byteLength);

/**
 * A fresh id for one request, sent as `X-Request-Id` so the server logs it under the id an error
 * carries; getRandomValues, unlike randomUUID, exists on plain-http pages too.
 */
export const newRequestId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');

/**
 * The grant's URL, or a ConfigurationError naming `caller` and the server call `maker` whose
 * answer it needs, for anything that is not an absolute http(s) URL.
 */
export function signedUrlOf(grant: unknown, caller: string, maker: string): URL {
  const url = (grant as { url?: unknown } | null)?.url;
  let target: URL | undefined;
  try {
    target = new URL(url as string);
  } catch {
    // reported below
  }
  if (target?.protocol !== 'https:' && target?.protocol !== 'http:') {
    throw new ConfigurationError(
      `${caller} needs the grant your server got from ${maker}, as it is (an object with an absolute url); got ${typeof url === 'string' ? `url ${url.slice(0, 40)}` : kindOf(grant)}.`,
      { code: 'invalid_configuration' },
    );
  }
  return target;
}

export const refusedBody = (what: string) =>
  new ValidationError(
    `uploadToUrl(): ${what}; send a Blob (a File), an ArrayBuffer, a Uint8Array or a ReadableStream of Uint8Array (text through a TextEncoderStream).`,
    { code: 'invalid_request', details: { field: 'body' } },
  );

/** The next chunk of a stream as bytes, or undefined at its end; refuses a chunk that is not bytes. */
export async function nextChunk(reader: ReadableStreamDefaultReader<unknown>, failure: Failure) {
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

/** PUTs `body` with fetch, counting the bytes as fetch takes them. */
export async function sendWithFetch(
  url: URL | string,
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

/** PUTs `body` with XMLHttpRequest, the one browser API with upload progress. */
export function sendWithXhr(
  url: URL | string,
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
    xhr.open('PUT', String(url));
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

/** An answer's body: JSON when it is JSON, else the text (a proxy's page), undefined when empty. */
function parsed(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

/** The answer's body when it is a success, else the error it carries (`requestId`: the request's). */
export function answered(answer: Answer, requestId: string): unknown {
  const body = parsed(answer.text);
  if (answer.status < 200 || answer.status > 299) {
    throw errorFromResponse(answer.status, body, answer.header('retry-after'), requestId);
  }
  return body;
}

/**
 * The error a call ends with: an AbortError when its caller aborted it, the server's error, or
 * a NetworkError; the first and last say what to do `again`.
 */
export const ended = (
  cause: unknown,
  where: string,
  aborted: boolean | undefined,
  again: string,
  requestId?: string,
): unknown =>
  aborted
    ? new AbortError(`${where} was aborted by the caller; ${again}`, { code: 'aborted', requestId, cause })
    : isPlinthError(cause)
      ? cause
      : new NetworkError(
          `${where} failed before an answer came (${String(cause)}). Check the connection, then ${again}`,
          { code: 'network_error', requestId, cause },
        );

/** An answer to `request` that is not what it should be: a grant from elsewhere than `maker`? */
export const unexpected = (request: string, maker: string, requestId?: string) =>
  new ProtocolError(
    `The answer to ${request} is not what it should be: is grant.url the URL your server got from ${maker}?`,
    { code: 'invalid_response', requestId },
  );
