import { type ErrorKind, errorKindForStatus, readErrorEnvelope } from '@plinth/protocol';
import {
  AuthError,
  ConflictError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from './error-classes.js';
import { PlinthError } from './plinth-error.js';

const classForKind = {
  validation: ValidationError,
  auth: AuthError,
  permission: PermissionError,
  not_found: NotFoundError,
  conflict: ConflictError,
  rate_limit: RateLimitError,
  timeout: TimeoutError,
  server: ServerError,
  unknown: PlinthError,
} satisfies Record<ErrorKind, typeof PlinthError>;

// The code to report when a proxy, not Plinth, answered and there is no envelope to read.
const codeForKind: Record<ErrorKind, string> = {
  validation: 'validation_failed',
  auth: 'unauthenticated',
  permission: 'permission_denied',
  not_found: 'not_found',
  conflict: 'conflict',
  rate_limit: 'rate_limited',
  timeout: 'timeout',
  server: 'internal_error',
  unknown: 'invalid_response',
};

/**
 * Milliseconds to wait from a `Retry-After` value: delay-seconds or an HTTP date.
 *
 * @example
 * ```ts
 * parseRetryAfter('120'); // 120000
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT'); // ms until then, or 0 if past
 * ```
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The error for a non-2xx answer: the envelope's code and message when Plinth answered, else
 * the status's family with a message that says a proxy probably answered.
 *
 * @example
 * ```ts
 * const error = errorFromResponse(404, { error: { code: 'not_found', message: 'No such post', requestId: 'r1' } }, null, 'r1');
 * error instanceof NotFoundError; // true
 * ```
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  retryAfterHeader: string | null,
  requestId: string,
): PlinthError {
  const envelope = readErrorEnvelope(body);
  const kind = errorKindForStatus(status);
  const retryAfterMs = parseRetryAfter(retryAfterHeader);
  const options = {
    code: envelope?.code ?? codeForKind[kind],
    status,
    requestId: envelope?.requestId ?? requestId,
    details: envelope?.details,
    retryAfter: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
  };
  const message =
    envelope?.message ??
    `HTTP ${status} without a Plinth error body: a proxy or load balancer in front of the server probably answered. Check that \`url\` points at the Plinth server.`;
  return new classForKind[kind](message, options);
}
