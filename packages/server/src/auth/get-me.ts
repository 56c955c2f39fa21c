import { getMeRoute } from '@plinth/protocol';
import { usersRepository } from '../accounts/users-repository.js';
import { HttpError } from '../http/http-error.js';
import { requireUser } from '../http/require-user.js';
import { defineHandler } from '../http/route-handler.js';

/** `GET /v1/auth/me`: the signed-in user. */
export const getMeHandler = defineHandler(getMeRoute, async ({ caller, services }) => {
  const me = requireUser(caller);
  // The session check already read the user; reading it again would double the per-request work.
  const user = me.profile ?? (await usersRepository(services.database).findById(me.userId));
  if (!user) throw new HttpError('session_expired', 'The session has ended; sign in again.');
  return { user };
});
