/**
 * Plinth auth: sign-up and sign-in, magic links, OAuth with PKCE, sessions in an HttpOnly cookie
 * (browsers) or in tokens (elsewhere), single-flight refresh, tab sync, and cookie forwarding for
 * server-side rendering.
 *
 * @packageDocumentation
 */

export type { SignedIn, TokenSession, User } from '@plinth/protocol';
export {
  type AuthCallOptions,
  type AuthClient,
  type AuthMode,
  type AuthOptions,
  authMode,
  createAuthClient,
} from './auth-client.js';
export {
  type AuthChangeEvent,
  type AuthEvents,
  type AuthState,
  type AuthStateListener,
  createAuthEvents,
} from './auth-events.js';
export {
  type CookieMethods,
  type CookieOptions,
  type CookieToSet,
  cookieForwardingFetch,
  cookieHeader,
  cookieOf,
  type IncomingHeaders,
  parseSetCookie,
} from './cookie-forwarding.js';
export { codeChallenge, randomToken } from './pkce.js';
export { singleFlight } from './refresh-single-flight.js';
export {
  cookieStore,
  localStorageStore,
  memoryStore,
  type SessionStore,
  sessionStorageStore,
  type WebStorage,
} from './session-store.js';
export { openTabSync, type TabMessage, type TabSync } from './tab-sync.js';
