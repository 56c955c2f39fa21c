import { getMeRoute } from '@plinth/protocol';
import { HttpError } from '../../http/http-error.js';
import { defineHandler } from '../define-handler.js';
import { loadUser } from './session-answer.js';

/** `GET /v1/auth/me`: the signed-in user. */
export const getMeHandler = defineHandler(getMeRoute, async ({ caller, services }) => {
  if (caller.kind !== 'user') throw new HttpError('session_expired', 'The session has ended; sign in again.');
  // The session check already read the user; reading it again would double the per-request work.
  const user = caller.profile ?? (await loadUser(services.database, caller.userId));
  if (!user) throw new HttpError('session_expired', 'The session has ended; sign in again.');
  return { user };
});
