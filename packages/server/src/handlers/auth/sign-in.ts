import { signInRoute } from '@plinth/protocol';
import { canonicalEmail } from '../../accounts/canonical-email.js';
import { publicUser, type UserRow, userColumns } from '../../accounts/public-user.js';
import { audit } from '../../audit/audit-log.js';
import { HttpError } from '../../http/http-error.js';
import { accountRateLimitKey, ruleFor } from '../../rate-limit/rate-limit-rules.js';
import { defineHandler } from '../define-handler.js';
import { sessionAnswer } from './session-answer.js';

// One message for every failure, so it cannot tell an unknown email from a wrong password.
const refused = () =>
  new HttpError('invalid_credentials', 'The email or password is wrong, or the email is not verified yet.');

/** `POST /v1/auth/sign-in` with email and password. A new session, in a cookie or as tokens. */
export const signInHandler = defineHandler(signInRoute, async ({ input, services, requestId }) => {
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
  const [row] = await database.query<UserRow & { password_hash: string | null; disabled_at: unknown }>(
    `SELECT ${userColumns}, password_hash, disabled_at FROM plinth.users WHERE lower(email) = $1`,
    [email],
  );
  if (!row?.password_hash) {
    // Same cost as a real check: timing must not reveal that the account does not exist.
    await auth.passwords.verifyDummy(input.password);
    await audit(database, 'auth.sign_in_failed', { requestId, details: { reason: 'unknown_email' } });
    throw refused();
  }
  const verdict = await auth.passwords.verify(row.password_hash, input.password);
  if (!verdict.ok || row.disabled_at !== null || row.email_verified_at === null) {
    await audit(database, 'auth.sign_in_failed', {
      userId: row.id,
      requestId,
      details: { reason: verdict.ok ? 'not_allowed' : 'password' },
    });
    throw refused();
  }
  if (verdict.needsRehash) {
    await database.query('UPDATE plinth.users SET password_hash = $2, updated_at = now() WHERE id = $1', [
      row.id,
      await auth.passwords.hash(input.password),
    ]);
  }
  const issued = await auth.sessions.start(row.id);
  await audit(database, 'auth.sign_in', { userId: row.id, requestId, details: { mode: input.mode ?? 'token' } });
  return sessionAnswer(issued, publicUser(row), input.mode ?? 'token', auth);
});
