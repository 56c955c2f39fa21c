import { adminDeleteUserRoute, adminUpdateUserRoute } from '@plinth/protocol';
import { revokeOneTimeTokens } from '../accounts/one-time-tokens.js';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';

const noSuchUser = (userId: string) =>
  new HttpError('not_found', `No user ${userId}. List users or check the id you stored.`, { field: 'userId' });

/**
 * `PATCH /v1/admin/users/:userId`: `disabled: true` disables the account, revokes every
 * session it has (docs/security.md: "All sessions revoked on … disable") and ends every link mailed to
 * it (verification, magic link, reset), so none works once it is enabled again; `false` enables it.
 */
export const adminUpdateUserHandler = defineHandler(adminUpdateUserRoute, async ({ input, services, requestId }) => {
  const { database, auth } = services;
  const users = usersRepository(database);
  const user =
    input.disabled === undefined
      ? await users.findForAdmin(input.userId)
      : input.disabled
        ? await users.disable(input.userId)
        : await users.enable(input.userId);
  if (!user) throw noSuchUser(input.userId);
  let revokedSessions = 0;
  if (input.disabled === true) {
    revokedSessions = await auth.sessions.revokeAll(input.userId, 'user_disabled');
    await revokeOneTimeTokens(database, input.userId);
    await audit(database, 'admin.user_disabled', { userId: input.userId, requestId, details: { revokedSessions } });
  } else if (input.disabled === false) {
    auth.sessions.changed({ userId: input.userId });
    await audit(database, 'admin.user_enabled', { userId: input.userId, requestId });
  }
  return { user, revokedSessions };
});

/**
 * `DELETE /v1/admin/users/:userId`: revokes every session, then deletes the account and all it
 * owns (its one-time tokens go with it: the table cascades).
 */
export const adminDeleteUserHandler = defineHandler(adminDeleteUserRoute, async ({ input, services, requestId }) => {
  const { database, auth } = services;
  const revokedSessions = await auth.sessions.revokeAll(input.userId, 'user_deleted');
  const deleted = await usersRepository(database).delete(input.userId);
  auth.sessions.changed({ userId: input.userId });
  if (deleted)
    await audit(database, 'admin.user_deleted', { userId: input.userId, requestId, details: { revokedSessions } });
  return { deleted, revokedSessions };
});
