import type { Database } from '../../database/database.js';
import { clearedSessionCookies, sessionCookies } from '../../sessions/session-cookies.js';
import type { IssuedSession } from '../../sessions/session-service.js';
import type { AuthServices } from '../define-handler.js';

/** A user as the auth routes return them. */
export interface PublicUser {
  id: string;
  email: string;
  emailVerified: boolean;
  createdAt: string;
}

interface UserRow {
  id: string;
  email: string;
  email_verified_at: Date | string | null;
  created_at: Date | string;
}

/** The user row the auth routes read. */
export const userColumns = 'id, email, email_verified_at, created_at';

/**
 * A user row as the wire contract shows it.
 *
 * @example
 * ```ts
 * publicUser(row); // { id, email, emailVerified: true, createdAt: '2026-…Z' }
 * ```
 */
export function publicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified_at !== null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/**
 * Loads a user for an answer.
 *
 * @example
 * ```ts
 * const user = await loadUser(database, userId);
 * ```
 */
export async function loadUser(database: Database, userId: string): Promise<PublicUser | undefined> {
  const [row] = await database.query<UserRow>(`SELECT ${userColumns} FROM plinth.users WHERE id = $1`, [userId]);
  return row ? publicUser(row) : undefined;
}

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
