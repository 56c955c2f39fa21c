import { refreshRoute } from '@plinth/protocol';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import { assertTrustedOrigin } from '../sessions/session-authenticator.js';
import { cookieNames, readCookie } from '../sessions/session-cookies.js';
import { sessionAnswer, withClearedCookies } from './session-answer.js';

/**
 * `POST /v1/auth/refresh`: a refresh token (body, token mode; or the HttpOnly cookie, cookie
 * mode) for the next pair. Refusals clear the cookies and say `session_expired`.
 */
export const refreshHandler = defineHandler(refreshRoute, async ({ input, request, services, context }) => {
  const { auth, database } = services;
  const fromCookie = readCookie(request.headers.get('cookie'), cookieNames(auth.cookies).refresh);
  const token = input.refreshToken ?? fromCookie;
  const mode = input.mode ?? (input.refreshToken === undefined && fromCookie !== undefined ? 'cookie' : 'token');
  if (token === undefined)
    throw new HttpError('unauthenticated', 'No refresh token: send it in the body, or sign in first.');
  if (input.refreshToken === undefined) assertTrustedOrigin(request, auth.appOrigins);
  const result = await auth.sessions.refresh(token, context);
  if ('refused' in result) {
    if (result.refused === 'reused') await audit(database, 'auth.refresh_reuse', { context });
    const error = new HttpError('session_expired', 'The session has ended; sign in again.');
    return mode === 'cookie'
      ? withClearedCookies(
          { error: { code: error.code, message: error.message, requestId: context.requestId } },
          401,
          auth,
        )
      : Promise.reject(error);
  }
  const user = await usersRepository(database).findById(result.userId);
  if (!user) throw new HttpError('session_expired', 'The account no longer exists.');
  await audit(database, 'auth.refresh', { userId: result.userId, context });
  return sessionAnswer(result, user, mode, auth);
});
