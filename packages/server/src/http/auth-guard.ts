import { type AuthRequirement, keyPrefixes, type Route, ticketScheme, wireHeaders } from '@plinth/protocol';
import type { ApiKeyIdentity } from '../keys/api-keys.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { TicketClaims } from '../realtime/tickets.js';
import type { Caller, UserCaller } from './caller.js';
import { HttpError } from './http-error.js';
import { assertScopes } from './scope-check.js';

/**
 * How the server recognises callers other than by the service key. Each is supplied by the
 * module that owns that credential (auth owns sessions); a missing one means no request can
 * satisfy routes of that kind.
 */
export interface Authenticators {
  /** The signed-in user behind a session cookie or access token, if any. */
  session?: (request: Request) => Promise<UserCaller | undefined>;
  /**
   * The scoped API key behind an `ak_` bearer, if it is one; throws a 401 saying why for a key
   * that was revoked or has expired.
   */
  apiKey?: (key: string) => Promise<ApiKeyIdentity | undefined>;
  /**
   * Checks that the request's URL carries the server's signature for this route and has not
   * expired; throws a 403 saying what is wrong.
   */
  presigned?: (route: Pick<Route, 'method' | 'path'>, url: URL) => void;
  /**
   * The claims of a realtime ticket; throws a 401 saying what is wrong with a forged, changed or
   * expired one.
   */
  ticket?: (ticket: string) => TicketClaims;
}

const bearer = (request: Request): string | undefined => {
  const value = request.headers.get(wireHeaders.authorization);
  return value?.startsWith('Bearer ') ? value.slice(7).trim() : undefined;
};

const needs: Record<Exclude<AuthRequirement, 'none'>, string> = {
  service: 'the service key or an API key: send Authorization: Bearer sk_… (or ak_…) from your server',
  session: 'a signed-in user: sign in first, then send the session cookie or Authorization: Bearer <access token>',
  ticket: `a realtime ticket minted by your server: send Authorization: ${ticketScheme} <ticket>`,
  presigned: 'a URL your server presigned',
};

/**
 * The caller of `route`, by the credential its declaration requires; a 401 when it is missing or
 * wrong. A publishable key, when sent, must be one of ours (a mistyped key fails loudly instead
 * of looking anonymous). An API key on a `service` route must hold the route's declared `scope`
 * (a 403 `insufficient_scope` otherwise, before the body is read); a route that declares neither
 * `scope` nor `scopeFor` is for the service key alone.
 *
 * @example
 * ```ts
 * const caller = await authenticate(route, request, keys, authenticators);
 * ```
 */
export async function authenticate(
  route: Pick<Route, 'auth' | 'method' | 'path' | 'scope' | 'scopeFor'>,
  request: Request,
  keys: KeyRing,
  authenticators: Authenticators,
): Promise<Caller> {
  const publishable = request.headers.get(wireHeaders.publishableKey);
  if (publishable !== null && !(await keys.verify('publishable', publishable))) {
    throw new HttpError('unauthenticated', 'The publishable key (apikey header) is not one of this server’s keys.');
  }
  if (route.auth === 'none') return { kind: 'anonymous' };
  if (route.auth === 'service') {
    const token = bearer(request);
    if (token?.startsWith(keyPrefixes.apiKey)) {
      const apiKey = await authenticators.apiKey?.(token);
      if (apiKey) {
        const caller = { kind: 'service', apiKey } as const;
        if (route.scope === undefined && route.scopeFor === undefined)
          throw new HttpError(
            'permission_denied',
            `${route.method} ${route.path} declares no API-key scope, so only the service key may call it.`,
          );
        if (route.scope !== undefined) assertScopes(caller, [route.scope], route);
        return caller;
      }
    } else if (token !== undefined && (await keys.verify('service', token))) return { kind: 'service' };
  } else if (route.auth === 'session') {
    const user = await authenticators.session?.(request);
    if (user) return user;
  } else if (route.auth === 'ticket' && authenticators.ticket) {
    const value = request.headers.get(wireHeaders.authorization);
    if (value?.startsWith(`${ticketScheme} `)) {
      return { kind: 'ticket', claims: authenticators.ticket(value.slice(ticketScheme.length + 1).trim()) };
    }
  } else if (route.auth === 'presigned' && authenticators.presigned) {
    authenticators.presigned(route, new URL(request.url));
    return { kind: 'presigned' };
  }
  throw new HttpError('unauthenticated', `${route.method} ${route.path} needs ${needs[route.auth]}.`);
}
