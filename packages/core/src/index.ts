/**
 * The Plinth transport, shared by every client package: keys and headers, route-aware
 * service-key checks, retries, timeouts, request ids, hooks and typed errors.
 *
 * @packageDocumentation
 */
export {
  AbortError,
  AuthError,
  ConfigurationError,
  ConflictError,
  InsecureServiceKeyTargetError,
  MissingServiceKeyError,
  NetworkError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitError,
  ServerError,
  ServiceKeyInBrowserError,
  TimeoutError,
  ValidationError,
} from './error-classes.js';
export { errorFromResponse, parseRetryAfter } from './error-from-response.js';
export { isPlinthError, PlinthError, type PlinthErrorOptions } from './plinth-error.js';
export {
  backoffDelay,
  type RetryOptions,
  type RetryPolicy,
  resolveRetryPolicy,
  retryableStatuses,
} from './retry-policy.js';
export { isBrowserLike, randomId } from './runtime.js';
export {
  type AfterResponseHook,
  type BeforeRequestHook,
  type CallOptions,
  callAs,
  createTransport,
  type RequestContext,
  type Transport,
  type TransportHooks,
  type TransportOptions,
} from './transport.js';
