import { HttpError } from '../http/http-error.js';

/** How long a client is asked to wait before trying again while the storage service is down, in seconds. */
export const storageRetryAfterSeconds = 1;

/**
 * The storage service (S3-compatible) could not be reached, did not answer in time, or answered
 * that it is failing (5xx): the request that needed it gets 503 `service_unavailable` with
 * `Retry-After` and the reason `storage_unavailable`, never a 500. It is an {@link HttpError}, so
 * the app's error handler answers with it as it is; the storage service tells it apart from a
 * refusal (see {@link isStorageUnavailable}), so an upload the service could not check stays open
 * to be completed again rather than being refused.
 *
 * @example
 * ```ts
 * throw new StorageUnavailableError('could not be reached (connection refused)', error);
 * ```
 */
export class StorageUnavailableError extends HttpError {
  constructor(why: string, cause?: unknown) {
    super(
      'service_unavailable',
      `Storage is unavailable right now: the S3-compatible storage service ${why}. Nothing was changed; try again in a moment.`,
      { reason: 'storage_unavailable' },
      { 'retry-after': String(storageRetryAfterSeconds) },
    );
    this.name = 'StorageUnavailableError';
    this.cause = cause;
  }
}

/**
 * Whether `error` says the storage service is down (rather than that the request was wrong):
 * such a request is answered 503 and may be sent again unchanged.
 *
 * @example
 * ```ts
 * if (error instanceof HttpError && !isStorageUnavailable(error)) await refuse(upload);
 * ```
 */
export function isStorageUnavailable(error: unknown): error is StorageUnavailableError {
  return error instanceof StorageUnavailableError;
}

/** Node's and undici's words for a connection that failed, by the cause's code. */
const connectionFailures: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EAI_AGAIN: 'host not found',
  ENOTFOUND: 'host not found',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_CLOSED: 'connection closed',
};

/**
 * The words for a failed `fetch()` to the storage service: its cause's code when it has a known
 * one (`connection refused`), else the cause's message.
 *
 * @example
 * ```ts
 * connectionFailure(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })); // 'connection refused'
 * ```
 */
export function connectionFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code !== undefined && Object.hasOwn(connectionFailures, code)) return connectionFailures[code] as string;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
