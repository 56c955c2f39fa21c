import type { UserCaller } from '../http/caller.js';
import { HttpError } from '../http/http-error.js';
import { isTrustedOrigin } from './origin-check.js';
import { type CookieSettings, cookieNames, readCookie } from './session-cookies.js';
import type { SessionService } from './session-service.js';

/**
 * Recognises a signed-in user by `Authorization: Bearer <access token>` (token mode) or the
 * HttpOnly access cookie (cookie mode). A cookie-authenticated change (any method but GET/HEAD)
 * must also pass the Origin check, or it is refused with 403 `origin_rejected`.
 *
 * @example
 * ```ts
 * const authenticators = { session: sessionAuthenticator(sessions, cookies, appOrigins) };
 * ```
 */
export function sessionAuthenticator(sessions: SessionService, cookies: CookieSettings, appOrigins: readonly string[]) {
  const { access } = cookieNames(cookies);
  return async (request: Request): Promise<UserCaller | undefined> => {
    const authorization = request.headers.get('authorization');
    if (authorization?.startsWith('Bearer ')) return sessions.authenticate(authorization.slice(7).trim());
    const token = readCookie(request.headers.get('cookie'), access);
    if (token === undefined) return undefined;
    if (request.method !== 'GET' && request.method !== 'HEAD') assertTrustedOrigin(request, appOrigins);
    return sessions.authenticate(token);
  };
}

/**
 * Throws 403 `origin_rejected` unless the request may come from a trusted page.
 *
 * @example
 * ```ts
 * assertTrustedOrigin(request, ['https://app.example.com']);
 * ```
 */
export function assertTrustedOrigin(request: Request, trusted: readonly string[]): void {
  if (!isTrustedOrigin(request, trusted)) {
    throw new HttpError(
      'origin_rejected',
      `A cookie-authenticated change from ${request.headers.get('origin') ?? 'another site'} was refused. Add the app's origin to PLINTH_CORS_ORIGINS.`,
    );
  }
}
