import { createOpaqueToken, hashOpaqueToken } from '../auth/opaque-token.js';
import type { Database, Queryable } from '../database/database.js';
import { usersRepository } from './users-repository.js';

/** What a one-time token is for. */
export type OneTimePurpose = 'verify_email' | 'magic_link' | 'reset_password';

/** docs/security.md: one-time tokens live at most 10 minutes. */
export const oneTimeTokenTtlSeconds = 600;

/**
 * Makes a single-use token for an active user; only its hash is stored. Undefined when the user
 * is disabled or gone. Run it in a transaction (`tx`): the user's row stays share-locked until
 * the commit, so a disable running at the same moment either comes first (no token) or waits and
 * then revokes it.
 *
 * @example
 * ```ts
 * const token = await database.transaction((tx) => issueOneTimeToken(tx, 'magic_link', user.id)); // undefined if disabled
 * ```
 */
export async function issueOneTimeToken(
  tx: Queryable,
  purpose: OneTimePurpose,
  userId: string,
): Promise<string | undefined> {
  if (!(await usersRepository(tx).lockIfActive(userId))) return undefined;
  const { token, hash } = createOpaqueToken('ot_');
  await tx.query(
    `INSERT INTO plinth.one_time_tokens (token_hash, purpose, user_id, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [hash, purpose, userId, oneTimeTokenTtlSeconds],
  );
  return token;
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
  const [row] = await db.query<{ user_id: string }>(
    `SELECT user_id FROM plinth.one_time_tokens
      WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()`,
    [hashOpaqueToken(token), purpose],
  );
  if (!row) return undefined;
  const email = await usersRepository(db).findActiveEmail(row.user_id);
  return email === undefined ? undefined : { userId: row.user_id, email };
}

/**
 * Uses up a one-time token: the user it was for, or undefined if it is unknown, for another
 * purpose, expired, already used, or its account is disabled (the token is then left unused, as
 * a disable revokes it anyway). One transaction holding the token's row, so two concurrent uses
 * cannot both win, and the user's row share-locked, so a disable cannot slip in between.
 *
 * @example
 * ```ts
 * const userId = await consumeOneTimeToken(database, 'verify_email', token);
 * ```
 */
export async function consumeOneTimeToken(
  database: Database,
  purpose: OneTimePurpose,
  token: string,
): Promise<string | undefined> {
  const hash = hashOpaqueToken(token);
  return database.transaction(async (tx) => {
    const [row] = await tx.query<{ user_id: string }>(
      `SELECT user_id FROM plinth.one_time_tokens
        WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
          FOR UPDATE`,
      [hash, purpose],
    );
    if (!row || !(await usersRepository(tx).lockIfActive(row.user_id))) return undefined;
    await tx.query('UPDATE plinth.one_time_tokens SET used_at = now() WHERE token_hash = $1', [hash]);
    return row.user_id;
  });
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
