import { createOpaqueToken, hashOpaqueToken } from '../auth/opaque-token.js';
import type { Queryable } from '../database/database.js';

/** What a one-time token is for. */
export type OneTimePurpose = 'verify_email' | 'magic_link' | 'reset_password';

/** SECURITY.md: one-time tokens live at most 10 minutes. */
export const oneTimeTokenTtlSeconds = 600;

/**
 * Makes a single-use token for a user; only its hash is stored.
 *
 * @example
 * ```ts
 * const token = await issueOneTimeToken(database, 'magic_link', user.id);
 * ```
 */
export async function issueOneTimeToken(db: Queryable, purpose: OneTimePurpose, userId: string): Promise<string> {
  const { token, hash } = createOpaqueToken('ot_');
  await db.query(
    `INSERT INTO plinth.one_time_tokens (token_hash, purpose, user_id, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [hash, purpose, userId, oneTimeTokenTtlSeconds],
  );
  return token;
}

/**
 * Uses up a one-time token: the user it was for, or undefined if it is unknown, for another
 * purpose, expired or already used. One statement, so two concurrent uses cannot both win.
 *
 * @example
 * ```ts
 * const userId = await consumeOneTimeToken(database, 'verify_email', token);
 * ```
 */
export async function consumeOneTimeToken(
  db: Queryable,
  purpose: OneTimePurpose,
  token: string,
): Promise<string | undefined> {
  const [row] = await db.query<{ user_id: string }>(
    `UPDATE plinth.one_time_tokens SET used_at = now()
      WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
      RETURNING user_id`,
    [hashOpaqueToken(token), purpose],
  );
  return row?.user_id;
}
