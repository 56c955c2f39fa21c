import { signUpRoute } from '@plinth/protocol';
import { afterAnswer } from '../accounts/after-answer.js';
import { canonicalEmail } from '../accounts/canonical-email.js';
import { emailLink, emailLinkBase } from '../accounts/email-links.js';
import { issueOneTimeToken } from '../accounts/one-time-tokens.js';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { defineHandler } from '../http/route-handler.js';
import { deliverLater } from '../mail/deliver-later.js';
import { assertAcceptablePassword } from './password-rules.js';

/**
 * `POST /v1/auth/sign-up`. Answers `accepted` whether or not the email has an account, after the
 * same work either way (the checks and one password hash). Whether the email is new is found out
 * after the answer ({@link afterAnswer}): making an account costs more than finding the email
 * taken, and the answer's timing must not tell which. A new account (stored under its canonical
 * email) gets a verification mail and signs in once verified; a taken email gets a notice.
 */
export const signUpHandler = defineHandler(signUpRoute, async ({ input, services, context }) => {
  const email = canonicalEmail(input.email);
  assertAcceptablePassword(input.password, 'password', email);
  const { auth, database, logger } = services;
  // Checked before anything else, for known and unknown emails alike.
  const base = emailLinkBase(input.redirectTo, auth.appOrigins);
  const hash = await auth.passwords.hash(input.password);
  afterAnswer(logger, 'sign-up', async () => {
    const created = await database.transaction(async (tx) => {
      const userId = await usersRepository(tx).create({ email, passwordHash: hash });
      if (userId === undefined) return undefined;
      const token = await issueOneTimeToken(tx, 'verify_email', userId);
      if (token === undefined) throw new Error('the account made for this sign-up could not be found');
      return { userId, token };
    });
    if (created) {
      await audit(database, 'auth.sign_up', { userId: created.userId, context });
      deliverLater(auth.mailer, logger, {
        to: email,
        subject: 'Confirm your email',
        text: `Confirm your email to finish signing up (the link works once, for 10 minutes):\n\n${emailLink(base, 'verify_email', created.token)}\n`,
      });
    } else {
      deliverLater(auth.mailer, logger, {
        to: email,
        subject: 'You already have an account',
        text: 'Someone tried to sign up with this email, which already has an account. If it was you, sign in or reset your password. If not, you can ignore this message.\n',
      });
    }
  });
  return { accepted: true as const };
});
