import { keyPrefixes } from '@plinth/protocol';
import { refusal } from './refusal.js';

/** Incoming request headers: a `Headers`, or Node's `IncomingHttpHeaders`. */
export type IncomingHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Whom `plinth.as(...)` acts as:
 * - a user's access token (a string), or `'anon'` for nobody signed in;
 * - a session with an `accessToken` (what `auth.signIn` gives in token mode);
 * - an incoming request (anything with `headers`: a `Request`, Node's `IncomingMessage`): the
 *   user of its Plinth access cookie (`__Host-plinth-access`, or `plinth-access` on plain-http
 *   deployments), or `'anon'` when it has none.
 */
export type ActAs = 'anon' | (string & {}) | { readonly accessToken: string } | { readonly headers: IncomingHeaders };

/** The session cookie names the Plinth server sets, `__Host-` first (secure deployments). */
export const accessCookieNames = ['__Host-plinth-access', 'plinth-access'] as const;

// What may go in a header value: visible ASCII, as tokens are.
const headerSafe = /^[\x21-\x7e]+$/;

/** The request's Plinth access cookie: `__Host-plinth-access` first (only a secure deployment sets it). */
function accessCookie(headers: IncomingHeaders): string | undefined {
  const raw =
    typeof headers.get === 'function'
      ? (headers as Headers).get('cookie')
      : Object.entries(headers).find(([name]) => name.toLowerCase() === 'cookie')?.[1];
  const cookie = `; ${Array.isArray(raw) ? raw.join('; ') : (raw ?? '')}`.replace(/;\s*/g, '; ');
  for (const name of accessCookieNames) {
    const value = cookie.split(`; ${name}=`)[1]?.split(';')[0]?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * The `x-plinth-act-as` value for `plinth.as(who)`: the access token, or `anon`. Refuses, before
 * any request, what cannot be meant: nothing, an empty token, a key in place of a token.
 *
 * @example
 * ```ts
 * actAsValue('anon'); // 'anon'
 * actAsValue(session); // session.accessToken
 * actAsValue(request); // the request's plinth access cookie, or 'anon'
 * ```
 */
export function actAsValue(who: ActAs): string {
  const token: unknown =
    typeof who === 'string'
      ? who
      : typeof who !== 'object' || who === null
        ? undefined
        : 'accessToken' in who
          ? who.accessToken
          : 'headers' in who && typeof who.headers === 'object' && who.headers
            ? (accessCookie(who.headers) ?? 'anon')
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
