import { randomId } from '@plinth/core';
import type { ObjectInfo, UploadGrant } from '@plinth/protocol';
import { streamedBody } from './node-send.js';
import {
  answered,
  ended,
  exchange,
  isStream,
  isWhole,
  kindOf,
  refusedBody,
  type Sendable,
  send,
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

/**
 * The bytes of an upload: whole, or a stream (a web `ReadableStream`, or any async iterable of
 * `Uint8Array` such as a Node `fs.createReadStream()`). A stream's size is known only once it has
 * been read to its end.
 */
export type UploadBody = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

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

/**
 * Sends the bytes of one upload to the URL your server got from `createUploadUrl()`, and
 * resolves to the stored object once the server has checked them (size, declared type against
 * the bytes themselves, the grant's limits). Needs no key: the signed URL is the permission,
 * so this is the browser's half of an upload.
 *
 * The grant says where the bytes go. A `PUT` grant (a server that keeps files on its disk):
 * to the Plinth server. A `POST` grant (a server that keeps them in S3): straight to the S3
 * bucket, as an HTML form upload (the grant's `fields` in order, a `Content-Type` field with the
 * declared type when the grant fixes none, then the file), and then a request to the grant's
 * `completeUrl` has the Plinth server check the bytes and make them the object. No header of
 * the SDK's goes to S3, so the bucket's CORS rules need only allow your app's origin to `POST`.
 *
 * In browsers it uses `XMLHttpRequest` for upload progress (a stream body is read into a Blob
 * first). A form's count includes its fields, sent first, so it is clamped to the file's size.
 * In Node it sends a `PUT` over `node:http` (about a fifth of fetch's CPU per byte), counting bytes as
 * they are handed to the socket; with a replaced global `fetch`, and in workers, over `fetch`
 * (counted in Node, told once at the end in a browser build's worker). A `POST` grant's form goes
 * with fetch, which tells nothing of its progress: it is reported once, at the end.
 *
 * It never retries: a grant takes one upload. If the connection is cut part-way (a
 * `NetworkError`) or the call is aborted before the server finished, the server keeps nothing
 * and puts the grant back, so calling again with the same grant and body works until the grant
 * expires (right after a cut, a `ConflictError` says the server has not noticed it yet: wait a
 * moment); with a `POST` grant, S3 keeps no half-sent file, and takes the form again until the
 * grant expires. An answer with an error (an expired or used URL, bytes over the limit or not
 * of the declared type) rejects with the matching `PlinthError` and the server's message; ask
 * your server for a new grant then. S3's refusals, in XML, get the class their status says and
 * a message with S3's code and message: a `PermissionError` for an expired grant
 * (`AccessDenied`), a `ValidationError` for a file over or under the grant's size limits
 * (`EntityTooLarge`, `EntityTooSmall`).
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
  // Checked before the bytes go: without it, S3 would keep bytes no object is made of.
  const { method } = grant;
  const completeUrl =
    method === 'POST' && signedUrlOf({ url: grant.completeUrl }, 'uploadToUrl()', 'createUploadUrl()');
  // Never the query string in a message: its signature is the permission to upload.
  let where = `${method} ${url.origin}${url.pathname}`;
  if (!isWhole(body) && !isStream(body)) throw refusedBody(`the body is ${kindOf(body)}`);
  const requestId = randomId();
  // Lower-cased, so that a `Content-Type` of the grant's is the one sent, and not joined by ours.
  // A POST grant has its type among its fields, and this is only where the file's type is read.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...grant.headers, ...grant.fields }))
    headers[name.toLowerCase()] = value;
  headers['content-type'] ||= options.contentType || (body instanceof Blob && body.type) || 'application/octet-stream';
  headers['x-request-id'] = requestId;

  const [signal, failure, , tell, end] = startCall(options.signal, options.onProgress);
  let total: number | undefined;
  let told = -1;
  const report = (sent: number) => {
    const loaded = Math.min(sent, total ?? sent);
    // Only news: a browser may repeat an event, or count past the body (a form's fields).
    if (loaded > told && failure.error === undefined) {
      told = loaded;
      tell({ loaded, total });
    }
  };

  try {
    // A stream's chunks are checked on their way: one that is not bytes stops the call with what
    // to send instead, and ends the stream, as does an abort. A form takes no stream: a stream
    // is then read whole first (a Blob may live on disk), as it is in browser builds.
    let sendable: Sendable = isWhole(body) ? body : await streamedBody(body, signal, failure, !!completeUrl);
    if (isWhole(sendable)) total = sizeOf(sendable);
    if (completeUrl) {
      // S3 reads the fields in order and takes the file from the last one; the policy they
      // carry is checked against them, so they go as they are, and no header with them. A grant
      // that fixes no type lets any `Content-Type` field through: the declared type, which S3
      // keeps as the object's, and the server then checks.
      const form = new FormData();
      for (const [name, value] of Object.entries(grant.fields ?? {})) form.append(name, value);
      if (!form.has('Content-Type')) form.append('Content-Type', headers['content-type'] as string);
      form.append('file', new Blob([sendable as BlobPart], { type: headers['content-type'] }));
      sendable = form;
    }
    let answer = answered(await send(method, url, completeUrl ? {} : headers, sendable, signal, report), requestId);
    if (completeUrl) {
      where = `POST ${completeUrl.origin}${completeUrl.pathname}`;
      // The size sent: the server tells a cut upload (fewer bytes at S3) from a whole one.
      answer = await exchange(completeUrl.href, 'POST', requestId, signal, { size: total });
    }
    const object = (answer as { object?: ObjectInfo } | undefined)?.object;
    if (typeof object?.key !== 'string' || typeof object.size !== 'number') {
      throw unexpected(where, 'createUploadUrl()', requestId);
    }
    // A stream's total is known only now: its end is news even at the count already told.
    if (total === undefined) told = -1;
    total = object.size;
    report(total);
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
