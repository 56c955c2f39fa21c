import { signOutRoute } from '@plinth/protocol';
import { audit } from '../audit/audit-log.js';
import { requireUser } from '../http/require-user.js';
import { defineHandler } from '../http/route-handler.js';
import { withClearedCookies } from './session-answer.js';

/** `POST /v1/auth/sign-out`: this session (`local`, the default), the `others`, or all (`global`). */
export const signOutHandler = defineHandler(signOutRoute, async ({ input, caller, services, context }) => {
  const me = requireUser(caller);
  const scope = input.scope ?? 'local';
  const signedOut = await services.auth.sessions.revoke(me, scope);
  await audit(services.database, 'auth.sign_out', { userId: me.userId, context, details: { scope, signedOut } });
  // The cookies go unless the caller kept its own session (`others`).
  return scope === 'others' ? { signedOut } : withClearedCookies({ signedOut }, 200, services.auth);
});
