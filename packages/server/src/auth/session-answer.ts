import type { PublicUser } from '../accounts/public-user.js';
import { clearedSessionCookies, sessionCookies } from '../sessions/session-cookies.js';
import type { IssuedSession } from '../sessions/session-service.js';
import type { AuthServices } from './auth-module.js';

/**
 * The answer of every route that signs someone in: tokens in the body (token mode), or HttpOnly
 * cookies and `session: null` (cookie mode: the browser never sees a token).
 *
 * @example
 * ```ts
 * return sessionAnswer(issued, user, input.mode ?? 'token', services.auth);
 * ```
 */
export function sessionAnswer(
  issued: IssuedSession,
  user: PublicUser,
  mode: 'cookie' | 'token',
  auth: AuthServices,
): Response {
  if (mode === 'cookie') {
    const headers = new Headers({ 'cache-control': 'no-store' });
    for (const cookie of sessionCookies(issued, auth.cookies)) headers.append('set-cookie', cookie);
    return Response.json({ user, session: null }, { headers });
  }
  return Response.json(
    {
      user,
      session: {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        tokenType: 'bearer',
        expiresAt: issued.expiresAt,
      },
    },
    { headers: { 'cache-control': 'no-store' } },
  );
}

/**
 * A JSON answer that also deletes the session cookies.
 *
 * @example
 * ```ts
 * return withClearedCookies({ signedOut: 1 }, 200, services.auth);
 * ```
 */
export function withClearedCookies(body: unknown, status: number, auth: AuthServices): Response {
  const headers = new Headers({ 'cache-control': 'no-store' });
  for (const cookie of clearedSessionCookies(auth.cookies)) headers.append('set-cookie', cookie);
  return Response.json(body, { status, headers });
}
