import { sessionCookieNames } from '@plinth/protocol';
import type { IssuedSession } from './session-service.js';

/** How session cookies are written. `secure: false` only for plain-http deployments off localhost. */
export interface CookieSettings {
  secure: boolean;
  /** Seconds the refresh cookie lives: the session's absolute lifetime. */
  refreshMaxAge: number;
}

/**
 * The cookie names: `__Host-` (Secure, Path=/, no Domain: bound to this exact host) when secure.
 * They come from @plinth/protocol, where the SDK's `as({ headers })` reads the same names.
 *
 * @example
 * ```ts
 * cookieNames({ secure: true }).access; // '__Host-plinth-access'
 * ```
 */
export function cookieNames(settings: Pick<CookieSettings, 'secure'>) {
  return sessionCookieNames(settings.secure);
}

const attributes = (settings: CookieSettings, maxAge: number) =>
  `Path=/; HttpOnly; SameSite=Lax${settings.secure ? '; Secure' : ''}; Max-Age=${maxAge}`;

/**
 * `Set-Cookie` values that put a session in HttpOnly cookies: the browser holds no token the
 * page's scripts could read.
 *
 * @example
 * ```ts
 * for (const cookie of sessionCookies(issued, settings)) headers.append('set-cookie', cookie);
 * ```
 */
export function sessionCookies(
  issued: IssuedSession,
  settings: CookieSettings,
  now: number = Date.now() / 1000,
): string[] {
  const names = cookieNames(settings);
  return [
    `${names.access}=${issued.accessToken}; ${attributes(settings, Math.max(0, Math.floor(issued.expiresAt - now)))}`,
    `${names.refresh}=${issued.refreshToken}; ${attributes(settings, settings.refreshMaxAge)}`,
  ];
}

/** `Set-Cookie` values that delete the session cookies. */
export function clearedSessionCookies(settings: CookieSettings): string[] {
  const names = cookieNames(settings);
  return [`${names.access}=; ${attributes(settings, 0)}`, `${names.refresh}=; ${attributes(settings, 0)}`];
}

/**
 * A cookie's value from a request's Cookie header.
 *
 * @example
 * ```ts
 * readCookie(request.headers.get('cookie'), '__Host-plinth-access');
 * ```
 */
export function readCookie(header: string | null, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}
