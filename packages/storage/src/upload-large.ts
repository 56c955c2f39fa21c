import {
  backoffDelay,
  ConfigurationError,
  ConflictError,
  isPlinthError,
  type RateLimitError,
  randomId,
  resolveRetryPolicy,
  ValidationError,
} from '@plinth/core';
import type { MultipartGrant, ObjectInfo, UploadPart } from '@plinth/protocol';
import {
  answered,
  ended,
  exchange,
  isWhole,
  kindOf,
  send,
  signedUrlOf,
  sizeOf,
  startCall,
  unexpected,
} from './send-bytes.js';
import type { UploadProgress } from './upload-to-url.js';

/** The bytes of a large upload: each part is sliced from it as it is sent, never copied whole. */
export type LargeUploadBody = Blob | ArrayBuffer | Uint8Array;

/** Options of {@link uploadLarge}. */
export interface LargeUploadOptions {
  /**
   * Called as bytes go out, with `loaded` only ever growing and counting the parts the server
   * already had; the first call says where the upload starts, and a successful upload's last
   * call, made once, has `loaded === total`. An error it throws stops the upload and is what the
   * call rejects with.
   */
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  /**
   * Stops every request in flight; the call then rejects with an `AbortError`. The parts already
   * sent stay on the server, so calling `uploadLarge` again resumes (see {@link abortLarge} to
   * drop them).
   */
  signal?: AbortSignal | undefined;
  /** Parts sent at once: 1 to 16, default 4. */
  concurrency?: number | undefined;
  /**
   * Further tries of a request that got no answer, or an answer saying a moment later may do
   * (5xx, 408, 409, 429), after a growing, random wait: 0 to 10, default 3 per request.
   */
  retries?: number | undefined;
  /**
   * The object's content type when the grant does not fix one (it does when it allows exactly
   * one type). Default: a Blob's (a File's) `type`, else `application/octet-stream`.
   */
  contentType?: string | undefined;
}

/** Where to `PUT` one part, as `POST <url>/part-urls` answers. */
interface PartUrl {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

/** What `GET <url>/parts` answers. */
interface PartList {
  parts: UploadPart[];
  partSize: number;
  state: string;
}

// The answers that may go the other way a moment later: the server failed or timed out, was
// busy with this upload (a completion running), or asked the client to slow down.
const worthRetrying = (status: number | undefined = 0) =>
  status >= 500 || status === 408 || status === 409 || status === 429;

// A Retry-After longer than this ends the call with the error (its `retryAfter` says how long)
// instead of leaving it waiting.
const longestRetryAfterMs = 60_000;

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    // Neither is removed: the signal is the call's own and ends with it.
    setTimeout(resolve, ms);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/** The grant's URL, refusing anything but a multipart grant (one with a `partSize`) before any request. */
function multipartUrlOf(grant: MultipartGrant, caller: string): URL {
  const url = signedUrlOf(grant, caller, 'createMultipartUpload()');
  if (typeof grant.partSize !== 'number') {
    throw new ConfigurationError(
      `${caller} needs a grant from createMultipartUpload(), which has a partSize; send a grant from createUploadUrl() with uploadToUrl().`,
      { code: 'invalid_configuration' },
    );
  }
  return url;
}

/** Refuses an option that is not a whole number from `least` to `most`. */
function checkWhole(name: string, value: number, least: number, most: number): void {
  if (!(Number.isInteger(value) && value >= least && value <= most)) {
    throw new ConfigurationError(
      `uploadLarge(): ${name} must be a whole number from ${least} to ${most}; got ${value}.`,
      {
        code: 'invalid_configuration',
      },
    );
  }
}

/**
 * Sends a large file in parts to the multipart grant your server got from
 * `createMultipartUpload()`, and resolves to the stored object once the server has joined and
 * checked them (type, size range, the grant's limits). Needs no key: the signed URL is the
 * permission, so this is the browser's half of a large upload.
 *
 * It first asks the server which parts it already has and sends only the others, so calling it
 * again with the same grant and file (after a cut connection, an abort, or a page reload, with
 * the grant your server kept or minted) resumes where the upload stopped; a part counts as sent
 * when the server has one of its number and size. Then it asks the server where to send them,
 * a hundred at a time (`POST <url>/part-urls`): to the Plinth server itself when it keeps files
 * on its disk, or straight to S3 (a presigned URL per part) when it keeps them there, so the
 * bucket's CORS rules must allow your app's origin to `PUT`. Any 2xx is a part stored, with a
 * JSON answer (Plinth) or none (S3). Parts go `concurrency` at a time, each tried again up to
 * `retries` times when it got no answer or a 5xx, 408, 409 or 429; any other refusal stops the
 * upload with the server's error (a `ValidationError`, a `PermissionError` for an expired
 * grant), S3's XML refusals mapped to the same classes by status, with S3's code and message.
 * Then it completes the upload on the Plinth server, which lists and joins the parts whichever
 * keeps them. Aborting (`signal`) leaves the parts for a later call; {@link abortLarge} drops
 * them.
 *
 * In browsers each part goes over `XMLHttpRequest`, for progress within a part; in Node over
 * `node:http` (or `fetch` when the global one was replaced); in workers over `fetch`.
 *
 * @example
 * ```ts
 * import { uploadLarge } from '@plinth/storage';
 *
 * // Your server made the grant with storage.from('videos').createMultipartUpload(key), and
 * // hands the same one out again after a reload, so the upload resumes.
 * const grant = await fetch('/api/video-upload', { method: 'POST' }).then((r) => r.json());
 * const controller = new AbortController();
 * pauseButton.onclick = () => controller.abort(); // call uploadLarge again to resume
 * const object = await uploadLarge(grant, fileInput.files[0], {
 *   onProgress: ({ loaded, total }) => (bar.value = total ? loaded / total : 0),
 *   signal: controller.signal,
 * });
 * console.log(object.key, object.size, object.sha256);
 * ```
 */
export async function uploadLarge(
  grant: MultipartGrant,
  file: LargeUploadBody,
  options: LargeUploadOptions = {},
): Promise<ObjectInfo> {
  const base = multipartUrlOf(grant, 'uploadLarge()');
  // Never the query string in a message: its signature is the permission to upload.
  const where = `${base.origin}${base.pathname}`;
  const at = (suffix: string) => `${where}${suffix}${base.search}`;
  const { concurrency = 4, retries = 3 } = options;
  const size = isWhole(file) ? sizeOf(file) : 0;
  if (size === 0) {
    throw new ValidationError(
      `uploadLarge(): the file is ${isWhole(file) ? 'empty' : kindOf(file)}; send a Blob, an ArrayBuffer or a Uint8Array of at least one byte (an empty one goes with uploadToUrl()).`,
      { code: 'invalid_request', details: { field: 'file' } },
    );
  }
  checkWhole('concurrency', concurrency, 1, 16);
  checkWhole('retries', retries, 0, 10);
  const bytes = file instanceof ArrayBuffer ? new Uint8Array(file) : file;
  const policy = resolveRetryPolicy({});
  const [signal, failure, stop, tell, end] = startCall(options.signal, options.onProgress);

  /** The error the call ends with, decided once: the first failure stops every other request. */
  const fail = (cause: unknown): unknown => {
    stop(
      ended(
        cause,
        `uploadLarge() to ${where}`,
        options.signal?.aborted,
        `call uploadLarge() again with the same grant and file to send the parts the server lacks (until ${grant.expiresAt}), or abortLarge(grant) to drop them.`,
      ),
    );
    return failure.error;
  };

  /** `attempt`, tried again while the failure is one a moment later may not repeat. */
  async function persist<T>(attempt: (requestId: string) => Promise<T>, retryUnanswered: boolean): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        return await attempt(randomId());
      } catch (error) {
        const waitMs = ((error as Partial<RateLimitError>).retryAfter ?? 0) * 1000;
        const worth = isPlinthError(error) ? worthRetrying(error.status) : retryUnanswered;
        if (signal.aborted || !worth || retry > retries || waitMs > longestRetryAfterMs) throw error;
        await pause(Math.max(backoffDelay(policy, retry), waitMs), signal);
      }
    }
  }

  // Progress: the bytes of the parts done, plus what is out of each part in flight.
  let done = 0;
  let reported = -1;
  const inFlight = new Map<number, number>();
  const report = () => {
    let loaded = done;
    for (const sent of inFlight.values()) loaded += sent;
    // Only news: a part tried again starts its count over.
    if (loaded <= reported || failure.error !== undefined) return;
    reported = loaded;
    tell({ loaded, total: size });
  };

  try {
    const listed = (await persist((id) => exchange(at('/parts'), 'GET', id, signal), true)) as
      | Partial<PartList>
      | undefined;
    const partSize = listed?.partSize ?? 0;
    if (!Array.isArray(listed?.parts) || !(partSize > 0)) {
      throw unexpected(`GET ${where}/parts`, 'createMultipartUpload()');
    }
    if (listed.state !== 'pending') {
      throw new ConflictError(
        `${where} is ${listed.state}, not open for parts: once "committed", the object is stored (your server reads it with info(key)); else ask your server for a new grant.`,
        { code: 'conflict' },
      );
    }
    const count = Math.ceil(size / partSize);
    const sizeOfPart = (n: number) => Math.min(partSize, size - (n - 1) * partSize);
    const had = new Set(
      listed.parts
        .filter((part) => part.partNumber >= 1 && part.partNumber <= count && part.size === sizeOfPart(part.partNumber))
        .map((part) => part.partNumber),
    );
    for (const n of had) done += sizeOfPart(n);
    report();

    /** Where to send a part, and with what headers: Plinth's own URL, or S3's presigned one. */
    let targets = new Map<number, PartUrl>();
    const sendPart = async (n: number) => {
      const expected = sizeOfPart(n);
      const start = (n - 1) * partSize;
      const part =
        bytes instanceof Blob ? bytes.slice(start, start + expected) : bytes.subarray(start, start + expected);
      const { url, headers } = targets.get(n) as PartUrl;
      // Never the query string in a message: the signature is the permission.
      const target = url.split('?')[0];
      try {
        await persist(async (requestId) => {
          inFlight.set(n, 0);
          const count = (loaded: number) => {
            inFlight.set(n, Math.min(loaded, expected));
            report();
          };
          // The request id only for Plinth, whose logs know it: to S3 it would be one more header
          // the bucket's CORS rules must allow.
          const sent = url.startsWith(where) ? { ...headers, 'x-request-id': requestId } : headers;
          answered(await send('PUT', new URL(url), sent, part, signal, count), requestId);
        }, true);
      } catch (error) {
        if (isPlinthError(error) && error.status !== undefined && error.status > 399 && !signal.aborted) {
          error.message = `PUT ${target} (part ${n}, ${expected} bytes) was refused: ${
            error.status === 413
              ? "a part may be at most the grant's partSize, and within any proxy's body limit. "
              : ''
          }${error.message}`;
        }
        throw error;
      }
      inFlight.delete(n);
      done += expected;
      report();
    };

    // The last part first: a file too large for the grant is refused before the rest is sent.
    const queue = [count, ...Array.from({ length: count - 1 }, (_, i) => i + 1)].filter((n) => !had.has(n));
    // Part URLs a hundred at a time (what the server signs at once), each batch asked for just
    // before its parts go, so that none is near its expiry when used.
    for (let i = 0; i < queue.length; i += 100) {
      const batch = queue.slice(i, i + 100);
      const given = (await persist((id) => exchange(at('/part-urls'), 'POST', id, signal, { parts: batch }), true)) as
        | { parts?: PartUrl[] }
        | undefined;
      targets = new Map(given?.parts?.map((part) => [part.partNumber, part]));
      if (!batch.every((n) => typeof targets.get(n)?.url === 'string')) {
        throw unexpected(`POST ${where}/part-urls`, 'createMultipartUpload()');
      }
      await Promise.all(
        Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
          try {
            for (let n = batch.shift(); n !== undefined; n = batch.shift()) await sendPart(n);
          } catch (cause) {
            throw fail(cause);
          }
        }),
      );
    }
    if (failure.error !== undefined) throw failure.error;

    const contentType =
      grant.contentTypes?.length === 1
        ? grant.contentTypes[0]
        : options.contentType || (bytes instanceof Blob && bytes.type.split(';')[0]) || 'application/octet-stream';
    // Not tried again without an answer: the server may have completed it. The next call says so.
    const completed = (await persist(
      (id) => exchange(at('/complete'), 'POST', id, signal, { contentType, parts: count }),
      false,
    )) as { object?: ObjectInfo } | undefined;
    const object = completed?.object;
    if (typeof object?.key !== 'string') {
      throw unexpected(`POST ${where}/complete`, 'createMultipartUpload()');
    }
    return object;
  } catch (cause) {
    throw fail(cause);
  } finally {
    end();
  }
}

/**
 * Drops a multipart upload and the parts the server has of it: for when the app gives up on it
 * (an aborted {@link uploadLarge} keeps them, to resume). Resolves to `true` when there was an
 * open upload to drop, `false` when it had already been dropped; a completed upload is a
 * `ConflictError` (remove the object instead).
 *
 * @example
 * ```ts
 * import { abortLarge } from '@plinth/storage';
 *
 * cancelButton.onclick = async () => {
 *   controller.abort(); // stops uploadLarge()
 *   await abortLarge(grant); // and drops what the server has
 * };
 * ```
 */
export async function abortLarge(grant: MultipartGrant, options: { signal?: AbortSignal | undefined } = {}) {
  const url = multipartUrlOf(grant, 'abortLarge()');
  try {
    const answer = (await exchange(url.href, 'DELETE', randomId(), options.signal)) as
      | { aborted?: unknown }
      | undefined;
    return answer?.aborted === true;
  } catch (cause) {
    throw ended(cause, `DELETE ${url.origin}${url.pathname}`, options.signal?.aborted, 'call abortLarge() again.');
  }
}
