import type { Queryable } from '../database/database.js';
import type { TimeCursor } from '../http/time-cursor.js';
import { canonicalEmail } from './canonical-email.js';
import type { PublicUser } from './public-user.js';

/** A user as an admin sees them: the public record, whether the account is disabled, and its metadata. */
export interface AdminUser extends PublicUser {
  readonly disabled: boolean;
  /** Until when a running ban refuses sign-in, ISO 8601; null when there is none. */
  readonly bannedUntil: string | null;
  readonly metadata: Record<string, unknown>;
}

/** What {@link UsersRepository.list} filters on; see `admin.listUsers`. */
export interface UserListFilters {
  /** Matches the start of the email, case-insensitively (compared in canonical form). */
  readonly emailPrefix?: string | undefined;
  readonly status?: AccountStatus | 'banned' | undefined;
  /** The page size; the caller bounds it. */
  readonly limit: number;
  /** Where the previous page ended: a user's created_at, to the microsecond, and id. */
  readonly after?: TimeCursor | undefined;
}

/** One page of {@link UsersRepository.list}. */
export interface UserPage {
  readonly users: AdminUser[];
  /** Where this page ended, when there may be more; undefined on the last page. */
  readonly next: TimeCursor | undefined;
  /** Users matching the filters, over all pages. */
  readonly total: number;
}

/** The outcome of {@link UsersRepository.changeEmail}. */
export type EmailChange = 'changed' | 'taken' | 'missing';

/** What signing in with a password needs to know about an account. */
export interface SignInAccount {
  readonly user: PublicUser;
  /** The argon2id PHC string, or null for an account that only uses OAuth or links. */
  readonly passwordHash: string | null;
  readonly disabled: boolean;
}

/** An account found by email for a mailed link: where the mail goes. */
export interface MailableAccount {
  readonly id: string;
  /** The address as stored (canonical), not as the caller typed it. */
  readonly email: string;
}

/** An account found by email while an OAuth sign-in decides whether to link to it. */
export interface LinkCandidate {
  readonly id: string;
  readonly emailVerified: boolean;
  readonly disabled: boolean;
}

/** Whether an account can be used; undefined from a lookup means it does not exist. */
export type AccountStatus = 'active' | 'disabled';

/**
 * The rule of a usable account, in SQL: not disabled, and not banned until a time still to come.
 * Every lookup that lets an account in uses it; `alias` qualifies the columns (`u.`).
 */
const usable = (alias = '') =>
  `(${alias}disabled_at IS NULL AND (${alias}banned_until IS NULL OR ${alias}banned_until <= now()))`;

/** The users repository; see {@link usersRepository}. */
export type UsersRepository = ReturnType<typeof usersRepository>;

/** The columns {@link publicUser} reads. */
const userColumns = 'id, email, email_verified_at, created_at';

interface UserRow {
  id: string;
  email: string;
  email_verified_at: Date | string | null;
  created_at: Date | string;
}

const publicUser = (row: UserRow): PublicUser => ({
  id: row.id,
  email: row.email,
  emailVerified: row.email_verified_at !== null,
  createdAt: new Date(row.created_at).toISOString(),
});

// `banned_until` only while the ban runs: one that ended is history, not state.
const adminColumns = `${userColumns}, disabled_at IS NOT NULL AS disabled,
  CASE WHEN banned_until > now() THEN banned_until END AS banned_until, metadata`;
type AdminRow = UserRow & {
  disabled: boolean;
  banned_until: Date | string | null;
  metadata: Record<string, unknown> | string | null;
};
const adminUser = (row: AdminRow): AdminUser => ({
  ...publicUser(row),
  disabled: row.disabled,
  bannedUntil: row.banned_until === null ? null : new Date(row.banned_until).toISOString(),
  metadata: typeof row.metadata === 'string' ? JSON.parse(row.metadata) : (row.metadata ?? {}),
});

// created_at to the microsecond, as text: a JS Date keeps milliseconds only, and a cursor that
// rounded would skip or repeat users created within the same millisecond.
const exactCreatedAt = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_exact`;

// LIKE's own characters in a prefix are matched literally.
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Every statement on `plinth.users` and `plinth.identities`: the one place that knows their
 * columns, so a rule about accounts (emails in canonical form, a disabled account is not active)
 * holds everywhere by being written once. Emails are passed through `canonicalEmail` here, so a
 * caller cannot look up or store a spelling the unique index would not match. Statements run on
 * `db`: the database, or a transaction when a lock must last until the caller's next statement.
 *
 * @example
 * ```ts
 * const users = usersRepository(database);
 * const account = await users.findForSignIn('Ada@Example.com'); // looks up 'ada@example.com'
 * await database.transaction((tx) => usersRepository(tx).create({ email, passwordHash }));
 * ```
 */
export function usersRepository(db: Queryable) {
  return {
    /** The public record of a user, or undefined if there is none. */
    async findById(userId: string): Promise<PublicUser | undefined> {
      const [row] = await db.query<UserRow>(`SELECT ${userColumns} FROM plinth.users WHERE id = $1`, [userId]);
      return row ? publicUser(row) : undefined;
    },

    /** A user with the disabled flag, as the admin routes show them. */
    async findForAdmin(userId: string): Promise<AdminUser | undefined> {
      const [row] = await db.query<AdminRow>(`SELECT ${adminColumns} FROM plinth.users WHERE id = $1`, [userId]);
      return row ? adminUser(row) : undefined;
    },

    /**
     * One page of users in (created_at, id) order, after `filters.after`, with the count of all
     * users matching the filters. Keyset paging: users added while someone pages come after the
     * cursor or not at all, so no user is returned twice and none that existed is skipped.
     */
    async list(filters: UserListFilters): Promise<UserPage> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filters.emailPrefix !== undefined) {
        params.push(likePrefix(canonicalEmail(filters.emailPrefix)));
        where.push(`lower(email) LIKE $${params.length}`);
      }
      if (filters.status === 'active') where.push(usable());
      if (filters.status === 'disabled') where.push('disabled_at IS NOT NULL');
      if (filters.status === 'banned') where.push('banned_until > now()');
      const filtered = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      const paged = [...where];
      const pageParams = [...params];
      if (filters.after) {
        pageParams.push(filters.after.at, filters.after.id);
        // ::text first: typed timestamptz, the PostgreSQL driver would send it through a JS Date
        // and drop the microseconds, and the page after a tie would start before the cursor.
        paged.push(`(created_at, id) > ($${pageParams.length - 1}::text::timestamptz, $${pageParams.length}::uuid)`);
      }
      pageParams.push(filters.limit + 1);
      const rows = await db.query<AdminRow & { created_at_exact: string }>(
        `SELECT ${adminColumns}, ${exactCreatedAt} FROM plinth.users
          ${paged.length > 0 ? `WHERE ${paged.join(' AND ')}` : ''}
          ORDER BY created_at, id LIMIT $${pageParams.length}`,
        pageParams,
      );
      const [counted] = await db.query<{ total: number | string }>(
        `SELECT count(*) AS total FROM plinth.users ${filtered}`,
        params,
      );
      const page = rows.slice(0, filters.limit);
      const last = page.at(-1);
      return {
        users: page.map(adminUser),
        next: rows.length > filters.limit && last ? { at: last.created_at_exact, id: last.id } : undefined,
        total: Number(counted?.total ?? 0),
      };
    },

    /**
     * The user of an access token's session, in one statement because every session request
     * pays it: only while the session is active (not revoked, not past its absolute lifetime)
     * and the account is not disabled.
     */
    async findBySession(sessionId: string, userId: string): Promise<PublicUser | undefined> {
      const [row] = await db.query<UserRow>(
        `SELECT ${userColumns} FROM plinth.users
          WHERE id = $2 AND ${usable()} AND EXISTS (
            SELECT 1 FROM plinth.sessions s
             WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.not_after > now())`,
        [sessionId, userId],
      );
      return row ? publicUser(row) : undefined;
    },

    /**
     * The user whose session `sessionId` is, while the session is active and the account not
     * disabled (a realtime ticket minted for a session lives only that long).
     */
    async activeSessionOwner(sessionId: string): Promise<string | undefined> {
      const [row] = await db.query<{ user_id: string }>(
        `SELECT s.user_id::text AS user_id FROM plinth.sessions s JOIN plinth.users u ON u.id = s.user_id
          WHERE s.id = $1 AND s.revoked_at IS NULL AND s.not_after > now() AND ${usable('u.')}`,
        [sessionId],
      );
      return row?.user_id;
    },

    /** What a password sign-in checks, for the account with `email` (any spelling), disabled or not. */
    async findForSignIn(email: string): Promise<SignInAccount | undefined> {
      const [row] = await db.query<UserRow & { password_hash: string | null; blocked: boolean }>(
        `SELECT ${userColumns}, password_hash, NOT ${usable()} AS blocked FROM plinth.users WHERE lower(email) = $1`,
        [canonicalEmail(email)],
      );
      return row ? { user: publicUser(row), passwordHash: row.password_hash, disabled: row.blocked } : undefined;
    },

    /** The password hash and email of a user, for checking the current password before a change. */
    async findPassword(userId: string): Promise<{ passwordHash: string | null; email: string } | undefined> {
      const [row] = await db.query<{ password_hash: string | null; email: string }>(
        'SELECT password_hash, email FROM plinth.users WHERE id = $1',
        [userId],
      );
      return row ? { passwordHash: row.password_hash, email: row.email } : undefined;
    },

    /** The active (not disabled) account with `email` (any spelling), to mail it a link. */
    async findActiveByEmail(email: string): Promise<MailableAccount | undefined> {
      const [row] = await db.query<MailableAccount>(
        `SELECT id, email FROM plinth.users WHERE lower(email) = $1 AND ${usable()}`,
        [canonicalEmail(email)],
      );
      return row;
    },

    /** The email of an active (not disabled) user; undefined if the user is disabled or gone. */
    async findActiveEmail(userId: string): Promise<string | undefined> {
      const [row] = await db.query<{ email: string }>(`SELECT email FROM plinth.users WHERE id = $1 AND ${usable()}`, [
        userId,
      ]);
      return row?.email;
    },

    /** Whether an account with `email` (any spelling) exists, disabled or not. */
    async emailTaken(email: string): Promise<boolean> {
      const rows = await db.query('SELECT 1 FROM plinth.users WHERE lower(email) = $1', [canonicalEmail(email)]);
      return rows.length > 0;
    },

    /** Whether a user is active or disabled; undefined if there is none. */
    async status(userId: string): Promise<AccountStatus | undefined> {
      const [row] = await db.query<{ disabled: boolean }>(
        `SELECT NOT ${usable()} AS disabled FROM plinth.users WHERE id = $1`,
        [userId],
      );
      return row === undefined ? undefined : row.disabled ? 'disabled' : 'active';
    },

    /**
     * Share-locks an active user's row until the end of the transaction `db` is: a disable
     * running at the same moment either came first (false) or waits for the caller's commit.
     * False when the user is disabled or gone. Outside a transaction the lock ends at once.
     */
    async lockIfActive(userId: string): Promise<boolean> {
      const rows = await db.query(`SELECT 1 FROM plinth.users WHERE id = $1 AND ${usable()} FOR SHARE`, [userId]);
      return rows.length > 0;
    },

    /**
     * Like {@link findForSignIn}'s lookup, but locks the row (`FOR UPDATE`) until the end of the
     * transaction `db` is, so a concurrent verification or disable cannot change the answer
     * while an OAuth sign-in links to it.
     */
    async lockByEmail(email: string): Promise<LinkCandidate | undefined> {
      const [row] = await db.query<{ id: string; verified: boolean; disabled: boolean }>(
        `SELECT id, email_verified_at IS NOT NULL AS verified, NOT ${usable()} AS disabled
           FROM plinth.users WHERE lower(email) = $1 FOR UPDATE`,
        [canonicalEmail(email)],
      );
      return row ? { id: row.id, emailVerified: row.verified, disabled: row.disabled } : undefined;
    },

    /**
     * Makes an account under the canonical form of `email`: with a password (sign-up), or none
     * and an email the provider verified (OAuth). Its id, or undefined if the email is taken.
     */
    async create(account: {
      email: string;
      passwordHash?: string | undefined;
      emailVerified?: boolean | undefined;
      metadata?: Record<string, unknown> | undefined;
    }): Promise<string | undefined> {
      const [row] = await db.query<{ id: string }>(
        `INSERT INTO plinth.users (email, password_hash, email_verified_at, metadata)
         VALUES ($1, $2, CASE WHEN $3 THEN now() END, $4::text::jsonb)
         ON CONFLICT (lower(email)) DO NOTHING RETURNING id`,
        [
          canonicalEmail(account.email),
          account.passwordHash ?? null,
          account.emailVerified === true,
          JSON.stringify(account.metadata ?? {}),
        ],
      );
      return row?.id;
    },

    /**
     * Moves a user to another email (canonical form), keeping whether it is confirmed. `taken`
     * when another account has that email, checked by the unique index itself so two changes at
     * once cannot both win.
     */
    async changeEmail(userId: string, email: string): Promise<EmailChange> {
      try {
        const rows = await db.query(
          'UPDATE plinth.users SET email = $2, updated_at = now() WHERE id = $1 RETURNING id',
          [userId, canonicalEmail(email)],
        );
        return rows.length > 0 ? 'changed' : 'missing';
      } catch (error) {
        if ((error as { code?: unknown }).code === '23505') return 'taken';
        throw error;
      }
    },

    /**
     * Bans a user until `until` (ISO 8601), or lifts the ban with null; the user after, or
     * undefined if there is none. A time already past is stored and bans nothing.
     */
    async setBannedUntil(userId: string, until: string | null): Promise<AdminUser | undefined> {
      const [row] = await db.query<AdminRow>(
        `UPDATE plinth.users SET banned_until = $2::text::timestamptz, updated_at = now()
          WHERE id = $1 RETURNING ${adminColumns}`,
        [userId, until],
      );
      return row ? adminUser(row) : undefined;
    },

    /** Replaces a user's metadata whole; false if there is no such user. */
    async setMetadata(userId: string, metadata: Record<string, unknown>): Promise<boolean> {
      const rows = await db.query(
        'UPDATE plinth.users SET metadata = $2::text::jsonb, updated_at = now() WHERE id = $1 RETURNING id',
        [userId, JSON.stringify(metadata)],
      );
      return rows.length > 0;
    },

    /** Confirms a user's email (a verification or magic link was opened); a no-op if already confirmed. */
    async markEmailVerified(userId: string): Promise<void> {
      await db.query('UPDATE plinth.users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1', [
        userId,
      ]);
    },

    /** Replaces a user's password hash (a change, or a rehash with stronger parameters). */
    async setPassword(userId: string, passwordHash: string): Promise<void> {
      await db.query('UPDATE plinth.users SET password_hash = $2, updated_at = now() WHERE id = $1', [
        userId,
        passwordHash,
      ]);
    },

    /** Sets the password from a reset link, which also proves the email is the user's. */
    async resetPassword(userId: string, passwordHash: string): Promise<void> {
      await db.query(
        'UPDATE plinth.users SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1',
        [userId, passwordHash],
      );
    },

    /** Disables an account (keeping the first time it was disabled); the user after, or undefined if none. */
    async disable(userId: string): Promise<AdminUser | undefined> {
      return setDisabled(db, userId, true);
    },

    /** Enables a disabled account; the user after, or undefined if none. */
    async enable(userId: string): Promise<AdminUser | undefined> {
      return setDisabled(db, userId, false);
    },

    /** Deletes an account and, by cascade, all it owns (sessions, tokens, identities); true if it existed. */
    async delete(userId: string): Promise<boolean> {
      const rows = await db.query('DELETE FROM plinth.users WHERE id = $1 RETURNING id', [userId]);
      return rows.length > 0;
    },

    /** The user a provider identity (provider, subject) is linked to, and whether it is disabled. */
    async findByIdentity(
      provider: string,
      subject: string,
    ): Promise<{ userId: string; disabled: boolean } | undefined> {
      const [row] = await db.query<{ user_id: string; disabled: boolean }>(
        `SELECT i.user_id, NOT ${usable('u.')} AS disabled
           FROM plinth.identities i JOIN plinth.users u ON u.id = i.user_id
          WHERE i.provider = $1 AND i.subject = $2`,
        [provider, subject],
      );
      return row ? { userId: row.user_id, disabled: row.disabled } : undefined;
    },

    /**
     * Links a provider identity to a user, noting the email the provider gave (canonical form).
     * False if that identity is already linked (to anyone).
     */
    async linkIdentity(link: { provider: string; subject: string; userId: string; email: string }): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO plinth.identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider, subject) DO NOTHING RETURNING user_id`,
        [link.provider, link.subject, link.userId, canonicalEmail(link.email)],
      );
      return rows.length > 0;
    },
  };
}

async function setDisabled(db: Queryable, userId: string, disabled: boolean): Promise<AdminUser | undefined> {
  const [row] = await db.query<AdminRow>(
    `UPDATE plinth.users
        SET disabled_at = CASE WHEN $2::boolean THEN coalesce(disabled_at, now()) END, updated_at = now()
      WHERE id = $1 RETURNING ${adminColumns}`,
    [userId, disabled],
  );
  return row ? adminUser(row) : undefined;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a cursor's id can be a user's: a UUID. */
export const isUserId = (id: string) => uuid.test(id);
