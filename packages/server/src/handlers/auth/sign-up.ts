import { signUpRoute } from '@plinth/protocol';
import { emailLink, emailLinkBase } from '../../accounts/email-links.js';
import { issueOneTimeToken } from '../../accounts/one-time-tokens.js';
import { audit } from '../../audit/audit-log.js';
import { deliverLater } from '../../mail/deliver-later.js';
import { defineHandler } from '../define-handler.js';
import { assertAcceptablePassword } from './password-rules.js';

/**
 * `POST /v1/auth/sign-up`. Answers `accepted` whether or not the email has an account, after the
 * same work either way (one password hash, one email queued): the answer, its status and its
 * timing tell nothing about who has an account. The new account signs in once verified.
 */
export const signUpHandler = defineHandler(signUpRoute, async ({ input, services, requestId }) => {
  assertAcceptablePassword(input.password, 'password');
  const { auth, database, logger } = services;
  // Checked before anything else, for known and unknown emails alike.
  const base = emailLinkBase(input.redirectTo, auth.appOrigins);
  const hash = await auth.passwords.hash(input.password);
  const created = await database.transaction(async (tx) => {
    const [user] = await tx.query<{ id: string }>(
      `INSERT INTO plinth.users (email, password_hash) VALUES ($1, $2)
       ON CONFLICT (lower(email)) DO NOTHING RETURNING id`,
      [input.email, hash],
    );
    if (!user) return undefined;
    return { userId: user.id, token: await issueOneTimeToken(tx, 'verify_email', user.id) };
  });
  if (created) {
    await audit(database, 'auth.sign_up', { userId: created.userId, requestId });
    deliverLater(auth.mailer, logger, {
      to: input.email,
      subject: 'Confirm your email',
      text: `Confirm your email to finish signing up (the link works once, for 10 minutes):\n\n${emailLink(base, 'verify_email', created.token)}\n`,
    });
  } else {
    deliverLater(auth.mailer, logger, {
      to: input.email,
      subject: 'You already have an account',
      text: 'Someone tried to sign up with this email, which already has an account. If it was you, sign in or reset your password. If not, you can ignore this message.\n',
    });
  }
  return { accepted: true as const };
});
