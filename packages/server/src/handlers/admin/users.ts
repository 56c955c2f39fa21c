import { adminDeleteUserRoute, adminUpdateUserRoute } from '@plinth/protocol';
import { revokeOneTimeTokens } from '../../accounts/one-time-tokens.js';
import { publicUser, type UserRow, userColumns } from '../../accounts/public-user.js';
import { audit } from '../../audit/audit-log.js';
import { HttpError } from '../../http/http-error.js';
import { defineHandler } from '../define-handler.js';

const noSuchUser = (userId: string) =>
  new HttpError('not_found', `No user ${userId}. List users or check the id you stored.`, { field: 'userId' });

/**
 * `PATCH /v1/admin/users/:userId`: `disabled: true` disables the account, revokes every
 * session it has (SECURITY.md: "All sessions revoked on … disable") and ends every link mailed to
 * it (verification, magic link, reset), so none works once it is enabled again; `false` enables it.
 */
export const adminUpdateUserHandler = defineHandler(adminUpdateUserRoute, async ({ input, services, requestId }) => {
  const { database, auth } = services;
  const [row] = await database.query<UserRow & { disabled: boolean }>(
    input.disabled === undefined
      ? `SELECT ${userColumns}, disabled_at IS NOT NULL AS disabled FROM plinth.users WHERE id = $1`
      : `UPDATE plinth.users
            SET disabled_at = CASE WHEN $2::boolean THEN coalesce(disabled_at, now()) END, updated_at = now()
          WHERE id = $1 RETURNING ${userColumns}, disabled_at IS NOT NULL AS disabled`,
    input.disabled === undefined ? [input.userId] : [input.userId, input.disabled],
  );
  if (!row) throw noSuchUser(input.userId);
  let revokedSessions = 0;
  if (input.disabled === true) {
    revokedSessions = await auth.sessions.revokeAll(input.userId, 'user_disabled');
    await revokeOneTimeTokens(database, input.userId);
    await audit(database, 'admin.user_disabled', { userId: input.userId, requestId, details: { revokedSessions } });
  } else if (input.disabled === false) {
    auth.sessions.changed({ userId: input.userId });
    await audit(database, 'admin.user_enabled', { userId: input.userId, requestId });
  }
  return { user: { ...publicUser(row), disabled: row.disabled }, revokedSessions };
});

/**
 * `DELETE /v1/admin/users/:userId`: revokes every session, then deletes the account and all it
 * owns (its one-time tokens go with it: the table cascades).
 */
export const adminDeleteUserHandler = defineHandler(adminDeleteUserRoute, async ({ input, services, requestId }) => {
  const { database, auth } = services;
  const revokedSessions = await auth.sessions.revokeAll(input.userId, 'user_deleted');
  const deleted = await database.query('DELETE FROM plinth.users WHERE id = $1 RETURNING id', [input.userId]);
  auth.sessions.changed({ userId: input.userId });
  if (deleted.length > 0)
    await audit(database, 'admin.user_deleted', { userId: input.userId, requestId, details: { revokedSessions } });
  return { deleted: deleted.length > 0, revokedSessions };
});
