import { signInWithMagicLinkRoute, verifyMagicLinkRoute } from '@plinth/protocol';
import { mailLinkIfAccountExists } from '../accounts/mailed-link.js';
import { consumeOneTimeToken } from '../accounts/one-time-tokens.js';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import { sessionAnswer } from './session-answer.js';

/** `POST /v1/auth/magic-link`: emails a sign-in link if the account exists; answers the same either way, before the lookup. */
export const signInWithMagicLinkHandler = defineHandler(signInWithMagicLinkRoute, async ({ input, services }) => {
  mailLinkIfAccountExists(services, input, {
    purpose: 'magic_link',
    subject: 'Your sign-in link',
    text: (link) => `Sign in with this link (it works once, for 10 minutes):\n\n${link}\n`,
  });
  return { accepted: true as const };
});

/** `POST /v1/auth/magic-link/verify`: signs in with the token; also confirms the email. */
export const verifyMagicLinkHandler = defineHandler(verifyMagicLinkRoute, async ({ input, services, context }) => {
  const { auth, database } = services;
  const userId = await consumeOneTimeToken(database, 'magic_link', input.token);
  if (!userId) throw new HttpError('invalid_credentials', 'This link is invalid, used, or expired; ask for a new one.');
  const users = usersRepository(database);
  // Opening the link proves the address is the user's.
  await users.markEmailVerified(userId);
  auth.sessions.changed({ userId });
  const user = await users.findById(userId);
  if (!user) throw new HttpError('invalid_credentials', 'This link is invalid, used, or expired; ask for a new one.');
  const issued = await auth.sessions.start(userId, context);
  await audit(database, 'auth.magic_link_used', { userId, context });
  return sessionAnswer(issued, user, input.mode ?? 'token', auth);
});
