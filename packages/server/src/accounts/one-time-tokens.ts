import { createOpaqueToken, hashOpaqueToken } from '../auth/opaque-token.js';
import type { Queryable } from '../database/database.js';

/** What a one-time token is for. */
export type OneTimePurpose = 'verify_email' | 'magic_link' | 'reset_password';

/** SECURITY.md: one-time tokens live at most 10 minutes. */
export const oneTimeTokenTtlSeconds = 600;

/**
 * Makes a single-use token for an active user; only its hash is stored. Undefined when the user
 * is disabled or gone. The user's row is share-locked while the token is written, so a disable
 * running at the same moment either comes first (no token) or waits and then revokes it.
 *
 * @example
 * ```ts
 * const token = await issueOneTimeToken(database, 'magic_link', user.id); // undefined if disabled
 * ```
 */
export async function issueOneTimeToken(
  db: Queryable,
  purpose: OneTimePurpose,
  userId: string,
): Promise<string | undefined> {
  const { token, hash } = createOpaqueToken('ot_');
  const issued = await db.query(
    `INSERT INTO plinth.one_time_tokens (token_hash, purpose, user_id, expires_at)
     SELECT $1, $2, id, now() + make_interval(secs => $4)
       FROM plinth.users WHERE id = $3 AND disabled_at IS NULL FOR SHARE
     RETURNING user_id`,
    [hash, purpose, userId, oneTimeTokenTtlSeconds],
  );
  return issued.length > 0 ? token : undefined;
}

/**
 * The account a one-time token is for, with its email, without using the token up: for checks
 * that need the account before the token is spent (a reset's new password must not be the
 * account's email). Undefined in every case {@link consumeOneTimeToken} would refuse.
 *
 * @example
 * ```ts
 * const account = await findOneTimeToken(database, 'reset_password', token); // { userId, email }
 * ```
 */
export async function findOneTimeToken(
  db: Queryable,
  purpose: OneTimePurpose,
  token: string,
): Promise<{ userId: string; email: string } | undefined> {
  const [row] = await db.query<{ user_id: string; email: string }>(
    `SELECT t.user_id, u.email FROM plinth.one_time_tokens t JOIN plinth.users u ON u.id = t.user_id
      WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
        AND u.disabled_at IS NULL`,
    [hashOpaqueToken(token), purpose],
  );
  return row ? { userId: row.user_id, email: row.email } : undefined;
}

/**
 * Uses up a one-time token: the user it was for, or undefined if it is unknown, for another
 * purpose, expired, already used, or its account is disabled (a token written in a race with
 * the disable is refused too). One statement, so two concurrent uses cannot both win.
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
    `UPDATE plinth.one_time_tokens t SET used_at = now()
       FROM plinth.users u
      WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
        AND u.id = t.user_id AND u.disabled_at IS NULL
      RETURNING t.user_id`,
    [hashOpaqueToken(token), purpose],
  );
  return row?.user_id;
}

/**
 * Ends every outstanding one-time token of a user (verification, magic link, reset): a link
 * mailed before the account was disabled, or before its password changed or was reset, must not
 * work after. Deleting the account removes them with it. Answers how many were ended.
 *
 * @example
 * ```ts
 * await revokeOneTimeTokens(database, userId); // after disabling, or changing the password
 * ```
 */
export async function revokeOneTimeTokens(db: Queryable, userId: string): Promise<number> {
  const revoked = await db.query(
    `DELETE FROM plinth.one_time_tokens
      WHERE user_id = $1 AND purpose IN ('verify_email', 'magic_link', 'reset_password') AND used_at IS NULL
      RETURNING 1`,
    [userId],
  );
  return revoked.length;
}
