import type { ServerErrorCode } from './error-codes.js';

/** The `error` member of an error envelope. */
export interface ErrorBody {
  code: ServerErrorCode | (string & {});
  message: string;
  details?: Record<string, unknown>;
  requestId: string;
}

/** The body of every error answer a Plinth server sends. */
export interface ErrorEnvelope {
  error: ErrorBody;
}

/**
 * Builds an error envelope.
 *
 * @example
 * ```ts
 * errorEnvelope('validation_failed', 'email: expected a string', 'req_1', { field: 'email' });
 * ```
 */
export function errorEnvelope(
  code: ServerErrorCode,
  message: string,
  requestId: string,
  details?: Record<string, unknown>,
): ErrorEnvelope {
  return { error: details ? { code, message, details, requestId } : { code, message, requestId } };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads an error envelope from a parsed JSON body, or returns `undefined` when the body is not
 * one. The same check as `errorEnvelopeSchema` (a test holds them equal), written without zod so
 * the browser transport does not carry a schema engine for it.
 *
 * @example
 * ```ts
 * readErrorEnvelope(await response.json())?.code; // 'not_found'
 * ```
 */
export function readErrorEnvelope(body: unknown): ErrorBody | undefined {
  if (!isRecord(body)) return undefined;
  const error = body.error;
  if (!isRecord(error)) return undefined;
  const { code, message, details, requestId } = error;
  if (typeof code !== 'string' || typeof message !== 'string' || typeof requestId !== 'string') {
    return undefined;
  }
  if (details !== undefined && !isRecord(details)) return undefined;
  return details === undefined ? { code, message, requestId } : { code, message, details, requestId };
}
