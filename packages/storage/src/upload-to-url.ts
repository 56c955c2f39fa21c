import type { ObjectInfo, UploadGrant } from '@plinth/protocol';
import {
  type Answer,
  answered,
  ended,
  type Failure,
  isWhole,
  kindOf,
  newRequestId,
  nextChunk,
  refusedBody,
  sendWithFetch,
  sendWithXhr,
  signedUrlOf,
  sizeOf,
  startCall,
  unexpected,
} from './send-bytes.js';

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
  const url = signedUrlOf(grant, 'uploadToUrl()', 'createUploadUrl()');
  // Never the query string in a message: its signature is the permission to upload.
  const where = `PUT ${url.origin}${url.pathname}`;
  if (!isWhole(body) && typeof (body as Partial<ReadableStream> | null)?.getReader !== 'function') {
    throw refusedBody(`the body is ${kindOf(body)}`);
  }
  const requestId = newRequestId();
  const headers: Record<string, string> = { ...grant.headers };
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['content-type'] = options.contentType || (body instanceof Blob && body.type) || 'application/octet-stream';
  }
  headers['x-request-id'] = requestId;

  const [signal, failure, , tell, end] = startCall(options.signal, options.onProgress);

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
    tell(last);
  };

  try {
    if (signal.aborted) throw signal.reason;
    let answer: Answer;
    if (typeof XMLHttpRequest === 'function') {
      const sendable = isWhole(body) ? body : await blobOf(body, signal, failure);
      total = sizeOf(sendable);
      answer = await sendWithXhr(url, headers, sendable, signal, report);
    } else {
      answer = await sendWithFetch(url, headers, body, signal, report, failure);
    }
    const object = (answered(answer, requestId) as { object?: ObjectInfo } | undefined)?.object;
    if (typeof object?.key !== 'string' || typeof object.size !== 'number') {
      throw unexpected(where, 'createUploadUrl()', requestId);
    }
    total = object.size;
    report(object.size);
    if (failure.error !== undefined) throw failure.error;
    return object;
  } catch (cause) {
    throw (
      failure.error ??
      ended(
        cause,
        where,
        options.signal?.aborted,
        `call uploadToUrl() again with the same grant (it works until ${grant.expiresAt}).`,
        requestId,
      )
    );
  } finally {
    end();
  }
}
