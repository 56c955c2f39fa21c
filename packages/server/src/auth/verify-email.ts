import { verifyEmailRoute } from '@plinth/protocol';
import { consumeOneTimeToken } from '../accounts/one-time-tokens.js';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';

/** `POST /v1/auth/verify-email` with the token from the verification link. */
export const verifyEmailHandler = defineHandler(verifyEmailRoute, async ({ input, services, context }) => {
  const userId = await consumeOneTimeToken(services.database, 'verify_email', input.token);
  if (!userId) throw new HttpError('invalid_credentials', 'This link is invalid, used, or expired; ask for a new one.');
  await usersRepository(services.database).markEmailVerified(userId);
  services.auth.sessions.changed({ userId });
  await audit(services.database, 'auth.email_verified', { userId, context });
  return { verified: true as const };
});
