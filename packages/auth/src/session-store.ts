import { ConfigurationError } from '@plinth/core';
import type { CookieMethods, CookieOptions } from './cookie-forwarding.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * Where the auth client keeps what must outlive one call: the tokens (token mode only) and the
 * PKCE verifier and `state` of an OAuth sign-in in progress. String keys and values, sync or
 * async, so `AsyncStorage`, a database row or a cookie jar fit as well as `localStorage`.
 */
export interface SessionStore {
  get(key: string): MaybePromise<string | null | undefined>;
  set(key: string, value: string): MaybePromise<void>;
  remove(key: string): MaybePromise<void>;
  /** What backs the store. The auth client refuses `'localStorage'` in cookie mode. */
  readonly kind?: string;
}

/** The parts of the Web Storage API a store needs. */
export type WebStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * A store that lives as long as the client: the default in token mode. Nothing survives a
 * restart, which is what a server or a short-lived script wants.
 *
 * @example
 * ```ts
 * const auth = createAuthClient(transport, { mode: 'token', store: memoryStore() });
 * ```
 */
export function memoryStore(): SessionStore {
  const entries = new Map<string, string>();
  return {
    kind: 'memory',
    get: (key) => entries.get(key),
    set: (key, value) => {
      entries.set(key, value);
    },
    remove: (key) => {
      entries.delete(key);
    },
  };
}

function webStore(kind: 'localStorage' | 'sessionStorage', storage?: WebStorage): SessionStore {
  try {
    // Reading `localStorage` throws where the user blocked site data; absent outside browsers.
    storage ??= globalThis[kind];
  } catch {}
  if (!storage) {
    throw new ConfigurationError(
      `${kind}Store() needs ${kind}, which this runtime lacks or blocks. Use memoryStore() or a SessionStore of your own.`,
      { code: 'invalid_configuration' },
    );
  }
  const web = storage;
  return {
    kind,
    get: (key) => web.getItem(key),
    set: (key, value) => web.setItem(key, value),
    remove: (key) => web.removeItem(key),
  };
}

/**
 * Keeps token-mode sessions in `localStorage`, so they survive reloads and are shared by tabs.
 * Token mode only: any script on the page can read `localStorage`, so cookie mode refuses it.
 *
 * @example
 * ```ts
 * const plinth = createClient({ url, publishableKey, auth: { mode: 'token', store: localStorageStore() } });
 * ```
 */
export function localStorageStore(storage?: WebStorage): SessionStore {
  return webStore('localStorage', storage);
}

/**
 * Keeps entries in `sessionStorage`: per tab, gone when the tab closes. Cookie mode uses it (when
 * the browser has it) for the PKCE verifier, which must survive the redirect to the provider.
 *
 * @example
 * ```ts
 * const auth = createAuthClient(transport, { mode: 'cookie', store: sessionStorageStore() });
 * ```
 */
export function sessionStorageStore(storage?: WebStorage): SessionStore {
  return webStore('sessionStorage', storage);
}

/**
 * Keeps entries in cookies of the app's own domain, through the framework's cookie API: how a
 * server-rendered app keeps the PKCE verifier between the request that starts an OAuth sign-in
 * and the callback. HttpOnly, SameSite=Lax (sent on the provider's redirect back), 10 minutes.
 *
 * @example
 * ```ts
 * const jar = await cookies(); // Next.js
 * const store = cookieStore({
 *   getAll: () => jar.getAll(),
 *   setAll: (list) => list.forEach(({ name, value, options }) => jar.set(name, value, options)),
 * });
 * ```
 */
export function cookieStore(
  cookies: CookieMethods,
  options: CookieOptions = { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 600 },
): SessionStore {
  return {
    kind: 'cookie',
    get: (key) => cookies.getAll().find((cookie) => cookie.name === key)?.value,
    set: (key, value) => cookies.setAll([{ name: key, value, options }]),
    remove: (key) => cookies.setAll([{ name: key, value: '', options: { ...options, maxAge: 0 } }]),
  };
}
