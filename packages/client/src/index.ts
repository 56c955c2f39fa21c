/**
 * The Plinth SDK in one import: `createClient(...)`.
 *
 * @packageDocumentation
 */

export {
  AbortError,
  AuthError,
  ConfigurationError,
  ConflictError,
  InsecureServiceKeyTargetError,
  isPlinthError,
  MissingServiceKeyError,
  NetworkError,
  NotFoundError,
  PermissionError,
  PlinthError,
  ProtocolError,
  RateLimitError,
  ServerError,
  ServiceKeyInBrowserError,
  TimeoutError,
  ValidationError,
} from '@plinth/core';
export { type ClientOptions, createClient, type Health, type PlinthClient } from './create-client.js';
