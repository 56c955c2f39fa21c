import { HttpError } from '../http/http-error.js';

/**
 * The error codes that say the database cannot be reached right now, with what each means in
 * words: Node's socket failures, postgres.js's own for a connection not made or lost, and
 * PostgreSQL's for shutting down, crashed and starting up (57P01–57P03). Connection exceptions
 * (SQLSTATE class 08) count too.
 */
export const unavailableCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EAI_AGAIN: 'host not found',
  CONNECT_TIMEOUT: 'timed out',
  CONNECTION_CLOSED: 'connection closed',
  CONNECTION_ENDED: 'connection closed',
  CONNECTION_DESTROYED: 'connection closed',
  '57P01': 'the database is shutting down',
  '57P02': 'the database is restarting',
  '57P03': 'the database is starting up',
};

/** How long a client is asked to wait before trying again while the database is down, in seconds. */
export const databaseRetryAfterSeconds = 1;

/**
 * Whether an error says the database cannot be reached right now (down, restarting, refusing
 * connections), rather than that the request or the server is wrong: such a request gets 503
 * with `Retry-After`, never a 500.
 *
 * @example
 * ```ts
 * isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })); // true
 * ```
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (Object.hasOwn(unavailableCodes, code) || code.startsWith('08'));
}

/**
 * The answer to a request that needed the database while it was down: 503
 * `service_unavailable` with `Retry-After`, so clients (and the SDK) wait and try again.
 *
 * @example
 * ```ts
 * if (isDatabaseUnavailable(error)) return databaseUnavailableError(error).toResponse(requestId);
 * ```
 */
export function databaseUnavailableError(cause: unknown): HttpError {
  const error = new HttpError(
    'service_unavailable',
    'The database is unavailable right now (down or restarting); try again in a moment.',
    { reason: 'database_unavailable' },
    { 'retry-after': String(databaseRetryAfterSeconds) },
  );
  error.cause = cause;
  return error;
}
