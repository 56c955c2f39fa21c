import { wireHeaders } from '@plinth/protocol';
import type { UserCaller } from '../http/caller.js';
import { HttpError } from '../http/http-error.js';

/** The database role a data statement runs as, and the claims `auth.uid()`/`auth.role()` read. */
export interface Actor {
  readonly role: 'plinth_anon' | 'plinth_authenticated' | 'plinth_service';
  readonly claims: {
    readonly role: 'anon' | 'authenticated' | 'service';
    readonly sub?: string;
    readonly sid?: string;
  };
}

/** The service role: a service call that acts as nobody in particular. */
export const serviceActor: Actor = { role: 'plinth_service', claims: { role: 'service' } };

/** Nobody signed in. */
export const anonActor: Actor = { role: 'plinth_anon', claims: { role: 'anon' } };

/**
 * Who a data call acts as, from `x-plinth-act-as`: absent, the service role; `anon`, the
 * anonymous role; otherwise a user's access token, checked exactly as session routes check it
 * (signature, expiry, revocation). A token that does not check out is a 401: acting as nobody
 * instead would quietly widen or narrow what the call sees.
 *
 * @example
 * ```ts
 * const actor = await actorFor(request, (token) => services.auth.sessions.authenticate(token));
 * actor.role; // 'plinth_authenticated'
 * ```
 */
export async function actorFor(
  request: Request,
  authenticate: (accessToken: string) => Promise<UserCaller | undefined>,
): Promise<Actor> {
  const header = request.headers.get(wireHeaders.actAs);
  if (header === null) return serviceActor;
  const value = header.trim();
  if (value === 'anon') return anonActor;
  const token = value.startsWith('Bearer ') ? value.slice(7).trim() : value;
  const user = token === '' ? undefined : await authenticate(token);
  if (!user) {
    throw new HttpError(
      'unauthenticated',
      `${wireHeaders.actAs}: the access token is invalid, expired or its session was revoked; refresh the user's session and send its new access token, or send anon.`,
      { header: wireHeaders.actAs },
    );
  }
  return { role: 'plinth_authenticated', claims: { role: 'authenticated', sub: user.userId, sid: user.sessionId } };
}
