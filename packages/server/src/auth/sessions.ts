import { listSessionsRoute, revokeSessionRoute } from '@plinth/protocol';
import { audit } from '../audit/audit-log.js';
import { requireUser } from '../http/require-user.js';
import { defineHandler } from '../http/route-handler.js';

const iso = (value: Date | string) => new Date(value).toISOString();

/** `GET /v1/auth/sessions`: the signed-in user's active sessions, newest first. */
export const listSessionsHandler = defineHandler(listSessionsRoute, async ({ caller, services }) => {
  const me = requireUser(caller);
  const rows = await services.database.query<{ id: string; created_at: Date | string; refreshed_at: Date | string }>(
    `SELECT id, created_at, refreshed_at FROM plinth.sessions
      WHERE user_id = $1 AND revoked_at IS NULL AND not_after > now() ORDER BY created_at DESC`,
    [me.userId],
  );
  return {
    sessions: rows.map((row) => ({
      id: row.id,
      createdAt: iso(row.created_at),
      refreshedAt: iso(row.refreshed_at),
      current: row.id === me.sessionId,
    })),
  };
});

/** `DELETE /v1/auth/sessions/:id`: ends one of the user's own sessions (another user's: `revoked: false`). */
export const revokeSessionHandler = defineHandler(
  revokeSessionRoute,
  async ({ input, caller, services, requestId }) => {
    const me = requireUser(caller);
    const revoked = await services.auth.sessions.revokeOne(input.id, 'revoked_by_user', me.userId);
    if (revoked)
      await audit(services.database, 'auth.sign_out', {
        userId: me.userId,
        requestId,
        details: { sessionId: input.id },
      });
    return { revoked };
  },
);
