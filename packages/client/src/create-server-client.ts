import { type CookieMethods, cookieForwardingFetch, cookieStore } from '@plinth/auth';
import type { AnyDatabase } from '@plinth/query';
import { type ClientOptions, createClient, type PlinthClient } from './create-client.js';

/** Options of {@link createServerClient}. */
export interface ServerClientOptions extends Omit<ClientOptions, 'auth'> {
  /** The incoming request's cookies and the response's, through your framework's cookie API. */
  cookies: CookieMethods;
}

/**
 * A client for server-side rendering, made per incoming request: it acts as the user whose
 * browser sent the request. Requests to the Plinth server carry the request's cookies
 * (`cookies.getAll()`), and every `Set-Cookie` the server answers is passed to `cookies.setAll()`
 * for your response, so a sign-in, refresh or sign-out made here reaches the browser. Auth runs in
 * cookie mode; an OAuth sign-in keeps its PKCE verifier in an HttpOnly cookie until the callback.
 *
 * @example
 * ```ts
 * // Next.js (app router)
 * import { cookies, headers } from 'next/headers';
 * import { createServerClient } from '@plinth/client';
 *
 * const jar = await cookies();
 * const plinth = createServerClient({
 *   url: process.env.PLINTH_URL,
 *   publishableKey: process.env.PLINTH_PUBLISHABLE_KEY,
 *   cookies: {
 *     getAll: () => jar.getAll(),
 *     setAll: (list) => list.forEach(({ name, value, options }) => jar.set(name, value, options)),
 *   },
 * });
 * const user = await plinth.auth.getMe();
 * // With a service key: data calls run as the user whose browser sent the request, under RLS.
 * const mine = await plinth.as({ headers: await headers() }).from('posts').select();
 * ```
 */
export function createServerClient<DB = AnyDatabase>(options: ServerClientOptions): PlinthClient<DB> {
  return createClient<DB>(serverClientOptions(options));
}

/**
 * The client options {@link createServerClient} uses: the request's cookies forwarded, auth in
 * cookie mode without tab sync.
 *
 * @example
 * ```ts
 * const plinth = createClient(serverClientOptions({ url, publishableKey, cookies }));
 * ```
 */
export function serverClientOptions({ cookies, ...options }: ServerClientOptions): ClientOptions {
  return {
    ...options,
    fetch: cookieForwardingFetch(options.url, cookies, options.fetch),
    // A server serves many users: no tab sync, and the session is the browser's cookie.
    auth: { mode: 'cookie', store: cookieStore(cookies), tabSync: false },
  };
}
