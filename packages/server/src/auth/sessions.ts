import { listSessionsRoute, revokeSessionRoute } from '@plinth/protocol';
import { audit } from '../audit/audit-log.js';
import { requireUser } from '../http/require-user.js';
import { defineHandler } from '../http/route-handler.js';
import { activeSessions } from '../sessions/session-service.js';

/** `GET /v1/auth/sessions`: the signed-in user's active sessions, newest first, with where each was last used from. */
export const listSessionsHandler = defineHandler(listSessionsRoute, async ({ caller, services }) => {
  const me = requireUser(caller);
  const sessions = await activeSessions(services.database, me.userId);
  return { sessions: sessions.map((session) => ({ ...session, current: session.id === me.sessionId })) };
});

/** `DELETE /v1/auth/sessions/:id`: ends one of the user's own sessions (another user's: `revoked: false`). */
export const revokeSessionHandler = defineHandler(revokeSessionRoute, async ({ input, caller, services, context }) => {
  const me = requireUser(caller);
  const revoked = await services.auth.sessions.revokeOne(input.id, 'revoked_by_user', me.userId);
  if (revoked)
    await audit(services.database, 'auth.sign_out', {
      userId: me.userId,
      context,
      details: { sessionId: input.id },
    });
  return { revoked };
});
