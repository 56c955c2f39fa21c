/**
 * The Plinth SDK in one import: `createClient(...)`, and `createServerClient(...)` for
 * server-side rendering.
 *
 * @packageDocumentation
 */

export {
  type AuthCallOptions,
  type AuthChangeEvent,
  type AuthClient,
  type AuthMode,
  type AuthOptions,
  type AuthState,
  type AuthStateListener,
  type CookieMethods,
  type CookieOptions,
  type CookieToSet,
  cookieStore,
  type IncomingHeaders,
  localStorageStore,
  memoryStore,
  type SessionStore,
  type SignedIn,
  sessionStorageStore,
  type TokenSession,
  type User,
} from '@plinth/auth';
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
export { createServerClient, type ServerClientOptions } from './create-server-client.js';
