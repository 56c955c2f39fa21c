import { sendMagicLinkRoute, verifyMagicLinkRoute } from '@plinth/protocol';
import { emailLink, emailLinkBase } from '../../accounts/email-links.js';
import { consumeOneTimeToken, issueOneTimeToken } from '../../accounts/one-time-tokens.js';
import { audit } from '../../audit/audit-log.js';
import { HttpError } from '../../http/http-error.js';
import { deliverLater } from '../../mail/deliver-later.js';
import { defineHandler } from '../define-handler.js';
import { loadUser, sessionAnswer } from './session-answer.js';

/** `POST /v1/auth/magic-link`: emails a sign-in link if the account exists; answers the same either way. */
export const sendMagicLinkHandler = defineHandler(sendMagicLinkRoute, async ({ input, services }) => {
  const { auth, database, logger } = services;
  const base = emailLinkBase(input.redirectTo, auth.appOrigins);
  const [user] = await database.query<{ id: string }>(
    'SELECT id FROM plinth.users WHERE lower(email) = lower($1) AND disabled_at IS NULL',
    [input.email],
  );
  if (user) {
    const token = await issueOneTimeToken(database, 'magic_link', user.id);
    deliverLater(auth.mailer, logger, {
      to: input.email,
      subject: 'Your sign-in link',
      text: `Sign in with this link (it works once, for 10 minutes):\n\n${emailLink(base, 'magic_link', token)}\n`,
    });
  }
  return { accepted: true as const };
});

/** `POST /v1/auth/magic-link/verify`: signs in with the token; also confirms the email. */
export const verifyMagicLinkHandler = defineHandler(verifyMagicLinkRoute, async ({ input, services, requestId }) => {
  const { auth, database } = services;
  const userId = await consumeOneTimeToken(database, 'magic_link', input.token);
  if (!userId) throw new HttpError('invalid_credentials', 'This link is invalid, used, or expired; ask for a new one.');
  // Opening the link proves the address is the user's.
  await database.query('UPDATE plinth.users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1', [
    userId,
  ]);
  auth.sessions.changed({ userId });
  const user = await loadUser(database, userId);
  if (!user) throw new HttpError('invalid_credentials', 'This link is invalid, used, or expired; ask for a new one.');
  const issued = await auth.sessions.start(userId);
  await audit(database, 'auth.magic_link_used', { userId, requestId });
  return sessionAnswer(issued, user, input.mode ?? 'token', auth);
});
