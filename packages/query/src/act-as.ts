import { ValidationError } from '@plinth/core';
import { keyPrefixes } from '@plinth/protocol';

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

const refuse = (what: string) =>
  new ValidationError(`as(): ${what}. No request was made.`, { code: 'invalid_request' });

// What may go in a header value: visible ASCII, as tokens are.
const headerSafe = /^[\x21-\x7e]+$/;

function cookieHeader(headers: IncomingHeaders): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get('cookie') ?? undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'cookie') return Array.isArray(value) ? value.join('; ') : value;
  }
  return undefined;
}

function accessCookie(headers: IncomingHeaders): string | undefined {
  const found = new Map<string, string>();
  for (const part of cookieHeader(headers)?.split(';') ?? []) {
    const index = part.indexOf('=');
    if (index > 0) {
      const name = part.slice(0, index).trim();
      if (!found.has(name)) found.set(name, part.slice(index + 1).trim());
    }
  }
  for (const name of accessCookieNames) {
    const value = found.get(name);
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
  let token: unknown;
  if (typeof who === 'string') token = who;
  else if (typeof who === 'object' && who !== null && 'accessToken' in who) token = who.accessToken;
  else if (
    typeof who === 'object' &&
    who !== null &&
    'headers' in who &&
    typeof who.headers === 'object' &&
    who.headers !== null
  ) {
    token = accessCookie(who.headers) ?? 'anon';
  } else {
    throw refuse(
      `expected an access token, a session ({ accessToken }), an incoming request ({ headers }) or 'anon'; got ${who === null ? 'null' : typeof who}. For nobody signed in, pass 'anon'`,
    );
  }
  if (typeof token !== 'string' || token === '')
    throw refuse("the access token is empty; for nobody signed in, pass 'anon'");
  if (Object.values(keyPrefixes).some((prefix) => token.startsWith(prefix))) {
    throw refuse(
      'that is a key, not a user’s access token; a call with the service key alone runs as the service role',
    );
  }
  if (!headerSafe.test(token))
    throw refuse('the access token has characters no token has (spaces, a "Bearer " prefix?)');
  return token;
}
