import { keyPrefixes, sessionCookieNames } from '@plinth/protocol';
import { refusal } from './refusal.js';

/** Incoming request headers: a `Headers`, or Node's `IncomingHttpHeaders`. */
export type IncomingHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Whom `plinth.as(...)` acts as:
 * - a user's access token (a string), or `'anon'` for nobody signed in;
 * - a session with an `accessToken` (what `auth.signIn` gives in token mode);
 * - an incoming request (anything with `headers`: a `Request`, Node's `IncomingMessage`): the
 *   user of its Plinth access cookie, or `'anon'` when it has none. The cookie is exactly the one
 *   the server sets: `__Host-plinth-access`, or `plinth-access` only with `secureCookies: false`
 *   (a plain-http deployment).
 */
export type ActAs = 'anon' | (string & {}) | { readonly accessToken: string } | { readonly headers: IncomingHeaders };

/** Options of {@link actAsValue}. */
export interface ActAsOptions {
  /**
   * As the server's `secureCookies`: true (the default) reads only `__Host-plinth-access`, which
   * no other host can set; false, for a plain-http deployment, only `plinth-access`.
   */
  readonly secureCookies?: boolean | undefined;
}

// What may go in a header value: visible ASCII, as tokens are.
const headerSafe = /^[\x21-\x7e]+$/;

/**
 * The request's Plinth access cookie, by the one name the deployment uses. Never the other: a
 * bare `plinth-access` on a secure deployment was set by some other host (a sibling subdomain),
 * and acting on it would run the app's queries as whoever planted it.
 */
function accessCookie(headers: IncomingHeaders, secureCookies: boolean): string | undefined {
  const raw =
    typeof headers.get === 'function'
      ? (headers as Headers).get('cookie')
      : Object.entries(headers).find(([name]) => name.toLowerCase() === 'cookie')?.[1];
  const cookie = `; ${Array.isArray(raw) ? raw.join('; ') : (raw ?? '')}`.replace(/;\s*/g, '; ');
  const name = sessionCookieNames(secureCookies).access;
  return cookie.split(`; ${name}=`)[1]?.split(';')[0]?.trim() || undefined;
}

/**
 * The `x-plinth-act-as` value for `plinth.as(who)`: the access token, or `anon`. Refuses, before
 * any request, what cannot be meant: nothing, an empty token, a key in place of a token.
 *
 * @example
 * ```ts
 * actAsValue('anon'); // 'anon'
 * actAsValue(session); // session.accessToken
 * actAsValue(request); // the request's __Host-plinth-access cookie, or 'anon'
 * actAsValue(request, { secureCookies: false }); // its plinth-access cookie (plain-http deployments)
 * ```
 */
export function actAsValue(who: ActAs, options: ActAsOptions = {}): string {
  const token: unknown =
    typeof who === 'string'
      ? who
      : typeof who !== 'object' || who === null
        ? undefined
        : 'accessToken' in who
          ? who.accessToken
          : 'headers' in who && typeof who.headers === 'object' && who.headers
            ? (accessCookie(who.headers, options.secureCookies ?? true) ?? 'anon')
            : undefined;
  const what =
    typeof token !== 'string' || !token
      ? "takes an access token, { accessToken }, { headers } or 'anon'"
      : Object.values(keyPrefixes).some((prefix) => token.startsWith(prefix))
        ? 'that is a key, not a user’s access token'
        : !headerSafe.test(token)
          ? 'not an access token (spaces? a "Bearer " prefix?)'
          : '';
  if (what) throw refusal('as()', what);
  return token as string;
}
