import { adminListSessionsRoute, adminRevokeAllSessionsRoute, adminRevokeSessionRoute } from '@plinth/protocol';
import { audit } from '../audit/audit-log.js';
import { defineHandler } from '../http/route-handler.js';
import { activeSessions } from '../sessions/session-service.js';

/** `GET /v1/admin/users/:userId/sessions`: a user's active sessions, newest first, with where each was last used from. */
export const adminListSessionsHandler = defineHandler(adminListSessionsRoute, async ({ input, services }) => ({
  sessions: await activeSessions(services.database, input.userId),
}));

/** `DELETE /v1/admin/users/:userId/sessions/:id`: ends one session of that user. */
export const adminRevokeSessionHandler = defineHandler(
  adminRevokeSessionRoute,
  async ({ input, services, context }) => {
    const revoked = await services.auth.sessions.revokeOne(input.id, 'revoked_by_admin', input.userId);
    if (revoked)
      await audit(services.database, 'admin.session_revoked', {
        userId: input.userId,
        context,
        details: { sessionId: input.id },
      });
    return { revoked };
  },
);

/** `DELETE /v1/admin/users/:userId/sessions`: ends every session of that user at once. */
export const adminRevokeAllSessionsHandler = defineHandler(
  adminRevokeAllSessionsRoute,
  async ({ input, services, context }) => {
    const revokedSessions = await services.auth.sessions.revokeAll(input.userId, 'revoked_by_admin');
    if (revokedSessions > 0)
      await audit(services.database, 'admin.sessions_revoked', {
        userId: input.userId,
        context,
        details: { revokedSessions },
      });
    return { revokedSessions };
  },
);
