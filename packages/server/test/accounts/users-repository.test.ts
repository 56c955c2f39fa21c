import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import { usersRepository } from '../../src/accounts/users-repository.js';
import type { Database } from '../../src/database/database.js';
import { openDatabase } from '../../src/database/open-database.js';

// The repository's methods one by one, on each database the server runs on. The routes that use
// them are covered end to end elsewhere; these pin what each method promises on its own
// (canonical emails, disabled accounts, first timestamps kept, cascades).
describe.each(testDatabaseLocations().filter((l) => l.label !== 'PGlite (directory)'))(
  'the users repository on $label',
  (location) => {
    let database: Database;
    let n = 0;
    // A fresh address per test, so tests do not see each other's accounts.
    const fresh = (local = 'user') => `${local}${++n}-${Date.now().toString(36)}@example.com`;
    const users = () => usersRepository(database);
    const row = async (userId: string) =>
      (
        await database.query<{ email: string; email_verified_at: Date | null; disabled_at: Date | null }>(
          'SELECT email, email_verified_at, disabled_at FROM plinth.users WHERE id = $1',
          [userId],
        )
      )[0];
    const startSession = async (userId: string, revoked = false) =>
      (
        await database.query<{ id: string }>(
          `INSERT INTO plinth.sessions (user_id, not_after, revoked_at)
           VALUES ($1, now() + interval '1 day', CASE WHEN $2 THEN now() END) RETURNING id`,
          [userId, revoked],
        )
      )[0]?.id as string;

    beforeAll(async () => {
      database = await openDatabase(await location.create());
    }, 30_000);
    afterAll(() => database.close());

    it('create stores the canonical email; any spelling finds it, and a second spelling is refused', async () => {
      const email = fresh('zoe');
      const typed = `  ${email.replace('zoe', 'ZOE\u0301').toUpperCase()} `;
      const id = await users().create({ email: typed, passwordHash: 'hash-1' });
      expect(id).toBeDefined();
      expect((await row(id as string))?.email).toBe(email.replace('zoe', 'zoé'));
      expect(await users().create({ email: email.replace('zoe', 'Zoé'), passwordHash: 'hash-2' })).toBeUndefined();
      expect(await users().emailTaken(email.replace('zoe', 'zoé').toUpperCase())).toBe(true);
      const account = await users().findForSignIn(` ${email.replace('zoe', 'zoé')}`);
      expect(account).toMatchObject({ passwordHash: 'hash-1', disabled: false, user: { id, emailVerified: false } });
    });

    it('create for an OAuth sign-in: no password, verified only when the provider said so', async () => {
      const verified = (await users().create({ email: fresh(), emailVerified: true })) as string;
      const unverified = (await users().create({ email: fresh(), emailVerified: false })) as string;
      expect(await users().findById(verified)).toMatchObject({ emailVerified: true });
      expect(await users().findById(unverified)).toMatchObject({ emailVerified: false });
      expect(await users().findPassword(verified)).toMatchObject({ passwordHash: null });
    });

    it('unknown emails and ids find nothing', async () => {
      const nobody = '00000000-0000-4000-8000-000000000000';
      expect(await users().emailTaken(fresh('nobody'))).toBe(false);
      expect(await users().findForSignIn(fresh('nobody'))).toBeUndefined();
      expect(await users().findActiveByEmail(fresh('nobody'))).toBeUndefined();
      expect(await users().findById(nobody)).toBeUndefined();
      expect(await users().findForAdmin(nobody)).toBeUndefined();
      expect(await users().findPassword(nobody)).toBeUndefined();
      expect(await users().status(nobody)).toBeUndefined();
      expect(await users().disable(nobody)).toBeUndefined();
      expect(await users().enable(nobody)).toBeUndefined();
      expect(await users().delete(nobody)).toBe(false);
    });

    it('markEmailVerified keeps the first time; resetPassword sets the hash and verifies', async () => {
      const id = (await users().create({ email: fresh(), passwordHash: 'old' })) as string;
      await users().markEmailVerified(id);
      const first = (await row(id))?.email_verified_at;
      expect(first).not.toBeNull();
      await database.query(
        `UPDATE plinth.users SET email_verified_at = email_verified_at - interval '1 hour' WHERE id = $1`,
        [id],
      );
      const earlier = (await row(id))?.email_verified_at;
      await users().markEmailVerified(id);
      expect((await row(id))?.email_verified_at).toEqual(earlier);

      const other = (await users().create({ email: fresh(), passwordHash: 'old' })) as string;
      await users().resetPassword(other, 'new');
      expect(await users().findPassword(other)).toMatchObject({ passwordHash: 'new' });
      expect(await users().findById(other)).toMatchObject({ emailVerified: true });
      await users().setPassword(other, 'newer');
      expect(await users().findPassword(other)).toMatchObject({ passwordHash: 'newer' });
    });

    it('a disabled account: not active, not mailable, not lockable; the first disable time is kept; enable undoes it', async () => {
      const email = fresh();
      const id = (await users().create({ email, passwordHash: 'h' })) as string;
      expect(await users().status(id)).toBe('active');
      expect(await users().findActiveByEmail(email.toUpperCase())).toEqual({ id, email });
      expect(await users().findActiveEmail(id)).toBe(email);

      expect(await users().disable(id)).toMatchObject({ id, email, disabled: true });
      const disabledAt = (await row(id))?.disabled_at;
      expect(await users().disable(id)).toMatchObject({ disabled: true });
      expect((await row(id))?.disabled_at).toEqual(disabledAt);
      expect(await users().status(id)).toBe('disabled');
      expect(await users().findForAdmin(id)).toMatchObject({ disabled: true });
      expect(await users().findForSignIn(email)).toMatchObject({ disabled: true });
      expect(await users().findActiveByEmail(email)).toBeUndefined();
      expect(await users().findActiveEmail(id)).toBeUndefined();
      expect(await database.transaction((tx) => usersRepository(tx).lockIfActive(id))).toBe(false);

      expect(await users().enable(id)).toMatchObject({ disabled: false });
      expect((await row(id))?.disabled_at).toBeNull();
      expect(await database.transaction((tx) => usersRepository(tx).lockIfActive(id))).toBe(true);
    });

    it('findBySession: only an active session of that user, and only while the account is enabled', async () => {
      const id = (await users().create({ email: fresh(), passwordHash: 'h' })) as string;
      const other = (await users().create({ email: fresh(), passwordHash: 'h' })) as string;
      const live = await startSession(id);
      const revoked = await startSession(id, true);
      expect(await users().findBySession(live, id)).toMatchObject({ id });
      expect(await users().findBySession(revoked, id)).toBeUndefined();
      expect(await users().findBySession(live, other)).toBeUndefined();
      await database.query(`UPDATE plinth.sessions SET not_after = now() - interval '1 second' WHERE id = $1`, [
        await startSession(id),
      ]);
      const expired = (
        await database.query<{ id: string }>(
          'SELECT id FROM plinth.sessions WHERE user_id = $1 AND not_after <= now()',
          [id],
        )
      )[0]?.id as string;
      expect(await users().findBySession(expired, id)).toBeUndefined();
      await users().disable(id);
      expect(await users().findBySession(live, id)).toBeUndefined();
    });

    it('identities: linked once, found with the account state, stored with the canonical email', async () => {
      const email = fresh();
      const id = (await users().create({ email, emailVerified: true })) as string;
      const subject = `sub-${email}`;
      expect(await users().findByIdentity('google', subject)).toBeUndefined();
      expect(
        await users().linkIdentity({ provider: 'google', subject, userId: id, email: ` ${email.toUpperCase()}` }),
      ).toBe(true);
      expect(await users().linkIdentity({ provider: 'google', subject, userId: id, email })).toBe(false);
      expect(await users().findByIdentity('google', subject)).toEqual({ userId: id, disabled: false });
      expect(await users().findByIdentity('github', subject)).toBeUndefined();
      const [stored] = await database.query<{ email: string }>(
        'SELECT email FROM plinth.identities WHERE provider = $1 AND subject = $2',
        ['google', subject],
      );
      expect(stored?.email).toBe(email);
      await users().disable(id);
      expect(await users().findByIdentity('google', subject)).toEqual({ userId: id, disabled: true });
    });

    it('lockByEmail finds the account by any spelling with its state; delete removes it and what it owns', async () => {
      const email = fresh();
      const id = (await users().create({ email, passwordHash: 'h' })) as string;
      await users().linkIdentity({ provider: 'google', subject: `sub-${email}`, userId: id, email });
      await startSession(id);
      expect(await database.transaction((tx) => usersRepository(tx).lockByEmail(email.toUpperCase()))).toEqual({
        id,
        emailVerified: false,
        disabled: false,
      });
      expect(await database.transaction((tx) => usersRepository(tx).lockByEmail(fresh('nobody')))).toBeUndefined();
      expect(await users().delete(id)).toBe(true);
      expect(await users().findById(id)).toBeUndefined();
      expect(await users().emailTaken(email)).toBe(false);
      expect(await users().findByIdentity('google', `sub-${email}`)).toBeUndefined();
      const [left] = await database.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM plinth.sessions WHERE user_id = $1',
        [id],
      );
      expect(left?.n).toBe(0);
    });
  },
);
