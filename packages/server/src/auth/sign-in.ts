import { signInRoute } from '@plinth/protocol';
import { canonicalEmail } from '../accounts/canonical-email.js';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import { accountRateLimitKey, ruleFor } from '../rate-limit/rate-limit-rules.js';
import { sessionAnswer } from './session-answer.js';

// One message for every failure, so it cannot tell an unknown email from a wrong password.
const refused = () =>
  new HttpError('invalid_credentials', 'The email or password is wrong, or the email is not verified yet.');

/** `POST /v1/auth/sign-in` with email and password. A new session, in a cookie or as tokens. */
export const signInHandler = defineHandler(signInRoute, async ({ input, services, context }) => {
  const { auth, database } = services;
  const email = canonicalEmail(input.email);
  // Per account as well as per IP (the route's own limit): guessing one account's password from
  // many addresses runs out too. Counted for every email tried, known or not.
  const perAccount = await services.rateLimiter.consume(
    accountRateLimitKey('auth.signIn.perAccount', email),
    ruleFor('auth.signIn.perAccount', services.rateRules),
  );
  if (!perAccount.allowed) {
    throw new HttpError(
      'rate_limited',
      `Too many sign-in attempts for this account; try again in ${perAccount.retryAfterSeconds} s.`,
      { retryAfter: perAccount.retryAfterSeconds },
      { 'retry-after': String(perAccount.retryAfterSeconds) },
    );
  }
  const users = usersRepository(database);
  const account = await users.findForSignIn(email);
  if (!account?.passwordHash) {
    // Same cost as a real check: timing must not reveal that the account does not exist.
    await auth.passwords.verifyDummy(input.password);
    await audit(database, 'auth.sign_in_failed', { context, details: { reason: 'unknown_email' } });
    throw refused();
  }
  const { user } = account;
  const verdict = await auth.passwords.verify(account.passwordHash, input.password);
  if (!verdict.ok || account.disabled || !user.emailVerified) {
    await audit(database, 'auth.sign_in_failed', {
      userId: user.id,
      context,
      details: { reason: verdict.ok ? 'not_allowed' : 'password' },
    });
    throw refused();
  }
  if (verdict.needsRehash) await users.setPassword(user.id, await auth.passwords.hash(input.password));
  const issued = await auth.sessions.start(user.id, context);
  await audit(database, 'auth.sign_in', { userId: user.id, context, details: { mode: input.mode ?? 'token' } });
  return sessionAnswer(issued, user, input.mode ?? 'token', auth);
});
