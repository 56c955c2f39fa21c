/** A user as the auth routes return them (the wire contract's `user`). */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly createdAt: string;
}

/** The columns of `plinth.users` that {@link publicUser} reads. */
export const userColumns = 'id, email, email_verified_at, created_at';

/** A `plinth.users` row with {@link userColumns}. */
export interface UserRow {
  id: string;
  email: string;
  email_verified_at: Date | string | null;
  created_at: Date | string;
}

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
