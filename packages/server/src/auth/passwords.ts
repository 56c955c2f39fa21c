import { confirmPasswordResetRoute, resetPasswordRoute, updatePasswordRoute } from '@plinth/protocol';
import { mailLinkIfAccountExists } from '../accounts/mailed-link.js';
import { consumeOneTimeToken, findOneTimeToken, revokeOneTimeTokens } from '../accounts/one-time-tokens.js';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { HttpError } from '../http/http-error.js';
import { requireUser } from '../http/require-user.js';
import { defineHandler } from '../http/route-handler.js';
import { assertAcceptablePassword } from './password-rules.js';

/** `POST /v1/auth/password`: changes the password, signs out every other session and ends every link mailed before. */
export const updatePasswordHandler = defineHandler(
  updatePasswordRoute,
  async ({ input, caller, services, context }) => {
    const me = requireUser(caller);
    const { auth, database } = services;
    const users = usersRepository(database);
    const account = await users.findPassword(me.userId);
    assertAcceptablePassword(input.newPassword, 'newPassword', account?.email);
    const verdict = account?.passwordHash
      ? await auth.passwords.verify(account.passwordHash, input.currentPassword)
      : { ok: false };
    if (!verdict.ok)
      throw new HttpError('invalid_credentials', 'currentPassword: that is not your current password.', {
        field: 'currentPassword',
      });
    await users.setPassword(me.userId, await auth.passwords.hash(input.newPassword));
    await auth.sessions.revoke(me, 'others', 'password_changed');
    await revokeOneTimeTokens(database, me.userId);
    await audit(database, 'auth.password_changed', { userId: me.userId, context });
    return { updated: true as const };
  },
);

/** `POST /v1/auth/reset-password`: emails a reset link if the account exists; answers the same either way, before the lookup. */
export const resetPasswordHandler = defineHandler(resetPasswordRoute, async ({ input, services }) => {
  mailLinkIfAccountExists(services, input, {
    purpose: 'reset_password',
    subject: 'Reset your password',
    text: (link) =>
      `Set a new password with this link (it works once, for 10 minutes):\n\n${link}\n\nIf you did not ask for this, ignore this message.\n`,
  });
  return { accepted: true as const };
});

/** `POST /v1/auth/reset-password/confirm`: sets the new password, signs out every session and ends every other link mailed before. */
export const confirmPasswordResetHandler = defineHandler(
  confirmPasswordResetRoute,
  async ({ input, services, context }) => {
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
    await usersRepository(database).resetPassword(userId, hash);
    await auth.sessions.revokeAll(userId, 'password_reset');
    await revokeOneTimeTokens(database, userId);
    await audit(database, 'auth.password_reset', { userId, context });
    return { updated: true as const };
  },
);
