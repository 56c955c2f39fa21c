import type { Caller, UserCaller } from './caller.js';
import { HttpError } from './http-error.js';

/**
 * The signed-in user behind a request, for a handler that acts on "my" account or sessions; a
 * 401 `unauthenticated` otherwise. The auth guard already refuses a `session` route without a
 * user, so this is the one answer for the case it cannot see (a handler mounted on a route of
 * another kind), and what narrows `caller` for the type checker.
 *
 * @example
 * ```ts
 * const user = requireUser(caller);
 * await services.auth.sessions.revoke(user, 'others');
 * ```
 */
export function requireUser(caller: Caller): UserCaller {
  if (caller.kind === 'user') return caller;
  throw new HttpError(
    'unauthenticated',
    'This needs a signed-in user: sign in first, then send the session cookie or Authorization: Bearer <access token>.',
  );
}
