import { HttpError } from '../http/http-error.js';

// Socket failures of a connection to the database (refused, reset, unreachable, timed out).
const socketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
// postgres.js's own codes for a connection that could not be made or was lost.
const driverCodes = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED']);
// PostgreSQL's: shutting down, crashed, starting up (57P01–57P03), and connection exceptions (08).
const shuttingDown = new Set(['57P01', '57P02', '57P03']);

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
  if (typeof code !== 'string') return false;
  return socketCodes.has(code) || driverCodes.has(code) || shuttingDown.has(code) || code.startsWith('08');
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
