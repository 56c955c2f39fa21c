import { confirmPasswordResetRoute, requestPasswordResetRoute, updatePasswordRoute } from '@plinth/protocol';
import { mailLinkIfAccountExists } from '../../accounts/mailed-link.js';
import { consumeOneTimeToken, findOneTimeToken, revokeOneTimeTokens } from '../../accounts/one-time-tokens.js';
import { audit } from '../../audit/audit-log.js';
import { HttpError } from '../../http/http-error.js';
import { defineHandler } from '../define-handler.js';
import { assertAcceptablePassword } from './password-rules.js';

/** `POST /v1/auth/password`: changes the password, signs out every other session and ends every link mailed before. */
export const updatePasswordHandler = defineHandler(
  updatePasswordRoute,
  async ({ input, caller, services, requestId }) => {
    if (caller.kind !== 'user') throw new HttpError('unauthenticated', 'Sign in first.');
    const { auth, database } = services;
    const [row] = await database.query<{ password_hash: string | null; email: string }>(
      'SELECT password_hash, email FROM plinth.users WHERE id = $1',
      [caller.userId],
    );
    assertAcceptablePassword(input.newPassword, 'newPassword', row?.email);
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
    await revokeOneTimeTokens(database, caller.userId);
    await audit(database, 'auth.password_changed', { userId: caller.userId, requestId });
    return { updated: true as const };
  },
);

/** `POST /v1/auth/recover`: emails a reset link if the account exists; answers the same either way, before the lookup. */
export const requestPasswordResetHandler = defineHandler(requestPasswordResetRoute, async ({ input, services }) => {
  mailLinkIfAccountExists(services, input, {
    purpose: 'reset_password',
    subject: 'Reset your password',
    text: (link) =>
      `Set a new password with this link (it works once, for 10 minutes):\n\n${link}\n\nIf you did not ask for this, ignore this message.\n`,
  });
  return { accepted: true as const };
});

/** `POST /v1/auth/recover/confirm`: sets the new password, signs out every session and ends every other link mailed before. */
export const confirmPasswordResetHandler = defineHandler(
  confirmPasswordResetRoute,
  async ({ input, services, requestId }) => {
    assertAcceptablePassword(input.newPassword, 'newPassword');
    const { auth, database } = services;
    const invalidLink = () =>
      new HttpError('invalid_credentials', 'This link is invalid, used, or expired; ask for a new one.');
    // Looked up before it is used, so a new password refused for being the email leaves the link working.
    const account = await findOneTimeToken(database, 'reset_password', input.token);
    if (!account) throw invalidLink();
    assertAcceptablePassword(input.newPassword, 'newPassword', account.email);
    const hash = await auth.passwords.hash(input.newPassword);
    const userId = await consumeOneTimeToken(database, 'reset_password', input.token);
    if (!userId) throw invalidLink();
    await database.query(
      'UPDATE plinth.users SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1',
      [userId, hash],
    );
    await auth.sessions.revokeAll(userId, 'password_reset');
    await revokeOneTimeTokens(database, userId);
    await audit(database, 'auth.password_reset', { userId, requestId });
    return { updated: true as const };
  },
);
