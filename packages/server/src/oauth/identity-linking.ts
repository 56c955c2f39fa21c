import { usersRepository } from '../accounts/users-repository.js';
import type { Database } from '../database/database.js';
import type { ProviderIdentity } from './id-token.js';

/** Why a provider sign-in does not get an account. Sent to the app as `error=…`. */
export type LinkRefusal = 'account_exists_unverified' | 'email_unverified' | 'email_required' | 'account_disabled';

/** The outcome of {@link findOrCreateUser}. */
export type LinkResult =
  | { userId: string; outcome: 'signed_in' | 'linked' | 'created' }
  | { refused: LinkRefusal; userId?: string };

/**
 * The user a provider sign-in belongs to.
 *
 * 1. An identity already linked (provider, subject) signs in its user.
 * 2. Else, an account with the same email (compared in canonical form, `canonicalEmail`) gets
 *    the identity linked only when BOTH the provider says `email_verified` and the account's own
 *    email is verified. Otherwise linking would let whoever controls the provider account take
 *    over an account they never proved to own, or take over one squatted by someone who never
 *    proved the address (docs/security.md; PocketBase CVE-2024-38351): refused with
 *    `account_exists_unverified`.
 * 3. Else a new account with no password, but only for an email the provider has verified:
 *    an account holding an unproven address would let its creator squat it, and stay linked
 *    after the address's real owner resets the password (pre-account hijacking). Refused with
 *    `email_unverified`.
 *
 * One transaction; racing sign-ins of the same new identity or email end with one account.
 *
 * @example
 * ```ts
 * const result = await findOrCreateUser(database, 'google', { subject: '1089…', email: 'ada@example.com', emailVerified: true });
 * ```
 */
export async function findOrCreateUser(
  database: Database,
  provider: string,
  identity: ProviderIdentity,
): Promise<LinkResult> {
  return database.transaction(async (tx): Promise<LinkResult> => {
    const users = usersRepository(tx);
    const known = await users.findByIdentity(provider, identity.subject);
    if (known) {
      return known.disabled
        ? { refused: 'account_disabled', userId: known.userId }
        : { userId: known.userId, outcome: 'signed_in' };
    }
    if (identity.email === undefined) return { refused: 'email_required' };
    const email = identity.email;
    if (!identity.emailVerified && !(await users.emailTaken(email))) return { refused: 'email_unverified' };

    const created = await users.create({ email, emailVerified: identity.emailVerified });
    let userId: string;
    let outcome: 'linked' | 'created';
    if (created !== undefined) {
      userId = created;
      outcome = 'created';
    } else {
      // Locked, so a concurrent verification or disable cannot change the answer under us.
      const existing = await users.lockByEmail(email);
      if (!existing) throw new Error('a user with this email vanished during the sign-in');
      if (!(identity.emailVerified && existing.emailVerified)) return { refused: 'account_exists_unverified' };
      if (existing.disabled) return { refused: 'account_disabled', userId: existing.id };
      userId = existing.id;
      outcome = 'linked';
    }
    const inserted = await users.linkIdentity({ provider, subject: identity.subject, userId, email });
    // A concurrent sign-in of the same identity linked it first; the transaction retried by the
    // user's next attempt finds it in step 1.
    if (!inserted) throw new Error('the identity was linked concurrently; sign in again');
    return { userId, outcome };
  });
}
