import {
  AbortError,
  ConfigurationError,
  errorFromResponse,
  isPlinthError,
  NetworkError,
  ProtocolError,
  ValidationError,
} from '@plinth/core';
import { sendWithoutXhr } from './node-send.js';
import type { UploadProgress } from './upload-to-url.js';

// How bytes go out to a signed URL with progress, shared by uploadToUrl (one request) and
// uploadLarge (one request per part): XMLHttpRequest in browsers, fetch elsewhere.

/** An answer, as either sender reads it. */
export interface Answer {
  status: number;
  text: string;
  retryAfter: string | null;
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

export const kindOf = (value: unknown) =>
  value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;

export const isWhole = (body: unknown): body is Blob | ArrayBuffer | Uint8Array =>
  body instanceof Blob || body instanceof ArrayBuffer || body instanceof Uint8Array;

export const sizeOf = (body: Blob | ArrayBuffer | Uint8Array) => (body instanceof Blob ? body.size : body.byteLength);

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
    `uploadToUrl(): ${what}; send a Blob (a File), an ArrayBuffer, a Uint8Array or a stream of Uint8Array (text through a TextEncoderStream).`,
    { code: 'invalid_request', details: { field: 'body' } },
  );

/**
 * What a request to a signed URL may send: the bytes, whole or as chunks (a stream body once
 * `streamedBody` has it), or (straight to S3) an HTML form with them.
 */
export type Sendable = Blob | ArrayBuffer | Uint8Array | AsyncIterable<Uint8Array> | FormData;

/** A web `ReadableStream` or any async iterable (a Node stream): an upload body read in chunks. */
export const isStream = (body: unknown): body is ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> =>
  typeof (
    (body as Partial<ReadableStream> | null)?.getReader ??
    (body as Partial<AsyncIterable<unknown>> | null)?.[Symbol.asyncIterator]
  ) === 'function';

/** A stream chunk that is not bytes: what to send instead. */
export const refusedChunk = (chunk: unknown) => refusedBody(`the stream gave a ${kindOf(chunk)}`);

/** A request to a signed URL with fetch, and its answer as {@link answered} reads it. */
export async function fetched(
  method: string,
  url: URL | string,
  headers: Record<string, string>,
  body: BodyInit | null,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers,
    body,
    // Required by fetch for a stream body: the answer may come only after the body is sent.
    duplex: 'half',
    // The URL is the credential: a user's cookies must not go with it.
    credentials: 'omit',
    signal,
  } as RequestInit);
  return { status: response.status, text: await response.text(), retryAfter: response.headers.get('retry-after') };
}

/**
 * Sends `body` with `method`, counting the bytes as they go out: with XMLHttpRequest where there
 * is one, the one browser API with upload progress (`body` must then be whole, not a stream),
 * counting a form as it goes, fields and boundaries included (callers clamp the count to the
 * file's size); else over `node:http` in Node, or fetch, counting what they take (node-send.ts),
 * and a form not at all.
 */
export async function send(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Sendable,
  signal: AbortSignal,
  count: (loaded: number) => void,
): Promise<Answer> {
  // Neither tells anything of a form's progress: the caller reports the end.
  if (typeof XMLHttpRequest !== 'function') return sendWithoutXhr(method, url, headers, body, signal, count);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const xhr = new XMLHttpRequest();
    const stop = () => xhr.abort();
    xhr.open(method, String(url));
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => count(event.loaded);
    // After an answer, a failed connection and an abort alike; only an answer has a status.
    xhr.onloadend = () => {
      signal.removeEventListener('abort', stop);
      if (xhr.status) {
        resolve({ status: xhr.status, text: xhr.responseText, retryAfter: xhr.getResponseHeader('retry-after') });
      } else {
        reject(signal.aborted ? signal.reason : new TypeError('no answer: the connection failed, or CORS'));
      }
    };
    signal.addEventListener('abort', stop, { once: true });
    xhr.send(body as XMLHttpRequestBodyInit);
  });
}

/**
 * The answer's body (JSON, else its text, undefined when empty) when it is a success: any 2xx,
 * as S3 answers a part or a form upload with none. Else the error it carries, of the class its
 * status says; S3's, in XML, `<Error><Code>…</Code><Message>…</Message>`, with its code and
 * message. `requestId`: the request's.
 */
export function answered({ status, text, retryAfter }: Answer, requestId: string): unknown {
  let body: unknown = text || undefined;
  try {
    body = JSON.parse(text);
  } catch {
    // a proxy's page, S3's XML, or nothing
  }
  if (status > 199 && status < 300) return body;
  const error = errorFromResponse(status, body, retryAfter, requestId);
  // Only these two elements: S3 may add the string it signed, and that goes in no message.
  const s3 = /<Code>(.*?)<.*?<Message>(.*?)</s.exec(text);
  if (s3) {
    (error as { message: string }).message =
      `S3 refused it (${s3[1]}: ${s3[2]}); ask your server for a new grant if this one expired, for a file within its limits.`;
  }
  throw error;
}

/**
 * One exchange of JSON (or none, when `body` is undefined) with a signed URL of the Plinth server,
 * which reads no body that is empty whatever its content type.
 */
export const exchange = async (
  url: string,
  method: string,
  requestId: string,
  signal: AbortSignal | undefined,
  body?: unknown,
): Promise<unknown> =>
  answered(
    await fetched(
      method,
      url,
      { 'x-request-id': requestId, 'content-type': 'application/json' },
      JSON.stringify(body) ?? null,
      signal,
    ),
    requestId,
  );

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
