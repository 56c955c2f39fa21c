import type { ErrorCode } from '@plinth/protocol';

// Symbol.for, not Symbol(): two copies of @plinth/core in one app share the brand, so
// isPlinthError() holds across duplicate installs where `instanceof` would not.
const brand = Symbol.for('plinth.error');

/** What every Plinth error carries besides its message. */
export interface PlinthErrorOptions {
  code: ErrorCode | (string & {});
  /** The HTTP status, when a server answered. */
  status?: number | undefined;
  /** The id of the call, sent as `X-Request-Id`: search the server's logs for it. */
  requestId?: string | undefined;
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/**
 * The base of every error the Plinth SDK throws. `code` is stable (see `@plinth/protocol`'s
 * error codes); the message says what went wrong and how to fix it.
 *
 * @example
 * ```ts
 * try {
 *   await plinth.auth.signIn({ email, password });
 * } catch (error) {
 *   if (isPlinthError(error) && error.code === 'invalid_credentials') showWrongPassword();
 *   else throw error;
 * }
 * ```
 */
export class PlinthError extends Error {
  override name = 'PlinthError';
  readonly code: PlinthErrorOptions['code'];
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** True only when the caller aborted the call (see {@link AbortError}). */
  readonly isAbort: boolean = false;

  constructor(message: string, options: PlinthErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.status = options.status;
    this.requestId = options.requestId;
    this.details = options.details;
  }

  get [brand](): true {
    return true;
  }

  /** A plain object for logs: no cause chain, no stack, never a key or token. */
  toJSON(): Record<string, unknown> {
    const { name, code, message, status, requestId, details } = this;
    return { name, code, message, status, requestId, details };
  }
}

/**
 * True for any error thrown by a Plinth SDK package, even one from another copy of the SDK.
 *
 * @example
 * ```ts
 * if (isPlinthError(error)) console.error(error.code, error.requestId);
 * ```
 */
export function isPlinthError(value: unknown): value is PlinthError {
  return typeof value === 'object' && value !== null && (value as { [brand]?: unknown })[brand] === true;
}
