import { confirmPasswordResetRoute, requestPasswordResetRoute, updatePasswordRoute } from '@plinth/protocol';
import { mailLinkIfAccountExists } from '../../accounts/mailed-link.js';
import { consumeOneTimeToken } from '../../accounts/one-time-tokens.js';
import { audit } from '../../audit/audit-log.js';
import { HttpError } from '../../http/http-error.js';
import { defineHandler } from '../define-handler.js';
import { assertAcceptablePassword } from './password-rules.js';

/** `POST /v1/auth/password`: changes the password and signs out every other session. */
export const updatePasswordHandler = defineHandler(
  updatePasswordRoute,
  async ({ input, caller, services, requestId }) => {
    if (caller.kind !== 'user') throw new HttpError('unauthenticated', 'Sign in first.');
    assertAcceptablePassword(input.newPassword, 'newPassword');
    const { auth, database } = services;
    const [row] = await database.query<{ password_hash: string | null }>(
      'SELECT password_hash FROM plinth.users WHERE id = $1',
      [caller.userId],
    );
    const verdict = row?.password_hash
      ? await auth.passwords.verify(row.password_hash, input.currentPassword)
      : { ok: false };
    if (!verdict.ok)
      throw new HttpError('invalid_credentials', 'currentPassword: that is not your current password.', {
        field: 'currentPassword',
      });
    await database.query('UPDATE plinth.users SET password_hash = $2, updated_at = now() WHERE id = $1', [
      caller.userId,
      await auth.passwords.hash(input.newPassword),
    ]);
    await auth.sessions.revoke(caller, 'others', 'password_changed');
    await audit(database, 'auth.password_changed', { userId: caller.userId, requestId });
    return { updated: true as const };
  },
);

/** `POST /v1/auth/recover`: emails a reset link if the account exists; answers the same either way. */
export const requestPasswordResetHandler = defineHandler(requestPasswordResetRoute, async ({ input, services }) => {
  await mailLinkIfAccountExists(services, input, {
    purpose: 'reset_password',
    subject: 'Reset your password',
    text: (link) =>
      `Set a new password with this link (it works once, for 10 minutes):\n\n${link}\n\nIf you did not ask for this, ignore this message.\n`,
  });
  return { accepted: true as const };
});

/** `POST /v1/auth/recover/confirm`: sets the new password and signs out every session. */
export const confirmPasswordResetHandler = defineHandler(
  confirmPasswordResetRoute,
  async ({ input, services, requestId }) => {
    assertAcceptablePassword(input.newPassword, 'newPassword');
    const { auth, database } = services;
    const userId = await consumeOneTimeToken(database, 'reset_password', input.token);
    if (!userId)
      throw new HttpError('invalid_credentials', 'This link is invalid, used, or expired; ask for a new one.');
    await database.query(
      'UPDATE plinth.users SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1',
      [userId, await auth.passwords.hash(input.newPassword)],
    );
    await auth.sessions.revokeAll(userId, 'password_reset');
    await audit(database, 'auth.password_reset', { userId, requestId });
    return { updated: true as const };
  },
);
