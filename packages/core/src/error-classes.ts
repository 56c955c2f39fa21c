import { PlinthError, type PlinthErrorOptions } from './plinth-error.js';

/** The input was refused: `details.field` names the field. Fix the input; do not retry. */
export class ValidationError extends PlinthError {
  override name = 'ValidationError';
}

/** Not signed in, wrong credentials, or the session expired. Sign in again. */
export class AuthError extends PlinthError {
  override name = 'AuthError';
}

/** The caller is known but may not do this (a row-level policy, a missing API-key scope). */
export class PermissionError extends PlinthError {
  override name = 'PermissionError';
}

/** The resource or route does not exist. */
export class NotFoundError extends PlinthError {
  override name = 'NotFoundError';
}

/** The change conflicts with existing data; `details` names the constraint. */
export class ConflictError extends PlinthError {
  override name = 'ConflictError';
}

/** Too many requests. `retryAfter` is how many seconds the server asked the SDK to wait. */
export class RateLimitError extends PlinthError {
  override name = 'RateLimitError';
  readonly retryAfter: number | undefined;

  constructor(message: string, options: PlinthErrorOptions & { retryAfter?: number | undefined }) {
    super(message, options);
    this.retryAfter = options.retryAfter;
  }
}

/** No answer came: the connection failed, was refused or was cut. */
export class NetworkError extends PlinthError {
  override name = 'NetworkError';
}

/** No answer within the timeout, or the server gave up on the work. */
export class TimeoutError extends PlinthError {
  override name = 'TimeoutError';
}

/** The caller aborted the call with its `AbortSignal`. Usually nothing to report. */
export class AbortError extends PlinthError {
  override name = 'AbortError';
  override readonly isAbort = true;
}

/** The server answered, but not as the wire contract says: SDK and server versions differ? */
export class ProtocolError extends PlinthError {
  override name = 'ProtocolError';
}

/** The server failed (5xx). The request id finds it in the server's logs. */
export class ServerError extends PlinthError {
  override name = 'ServerError';
}

/** The client was set up wrongly. Thrown at once, before any request. */
export class ConfigurationError extends PlinthError {
  override name = 'ConfigurationError';
}

/**
 * A data or admin call on a client without a service key. Thrown synchronously; no request is
 * made. Such calls belong on the app's server.
 */
export class MissingServiceKeyError extends ConfigurationError {
  override name = 'MissingServiceKeyError';
}

/** A service key in a browser-like runtime, where anyone could read it. */
export class ServiceKeyInBrowserError extends ConfigurationError {
  override name = 'ServiceKeyInBrowserError';
}

/** The service key would have gone to another origin, or over cleartext HTTP to another host. */
export class InsecureServiceKeyTargetError extends ConfigurationError {
  override name = 'InsecureServiceKeyTargetError';
}
