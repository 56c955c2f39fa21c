import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { useDataServer } from './data-fixture.js';

// A user's single compiled statement: on PostgreSQL, BEGIN with the user's SET LOCALs, the
// statement and COMMIT sent in one round trip on connections of their own, never cleared with
// DISCARD ALL (docs/data.md, "Data sessions"). What must hold: every call sees exactly its own
// claims, however the calls interleave on those connections; a failed statement leaves no
// transaction open behind it; nothing a call set is still set for the next. On PGlite the same
// calls take the data-session path, and the same expectations hold.

const data = useDataServer();
let userA: { id: string; accessToken: string };
let userB: { id: string; accessToken: string };

beforeAll(async () => {
  [userA, userB] = await Promise.all([data.user('compiled-a@example.com'), data.user('compiled-b@example.com')]);
  const notes = [
    ...Array.from({ length: 3 }, (_, i) => ({ owner_id: userA.id, body: `a${i}` })),
    ...Array.from({ length: 5 }, (_, i) => ({ owner_id: userB.id, body: `b${i}` })),
  ];
  const seeded = await data.query({ table: 'notes', op: 'insert', values: notes });
  expect(seeded.status, JSON.stringify(seeded.body)).toBe(200);
}, 60_000);

const ownNotes = (token: string) => data.query({ table: 'notes', op: 'select', columns: ['owner_id', 'body'] }, token);

describe('a user’s single statement in one round trip', () => {
  it('200 interleaved reads by two users each see only that user’s rows', async () => {
    const calls = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? userA : userB));
    const answers = await Promise.all(calls.map((user) => ownNotes(user.accessToken)));
    answers.forEach(({ status, body }, i) => {
      const user = calls[i] as typeof userA;
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body?.rowCount).toBe(user === userA ? 3 : 5);
      expect(new Set(body?.rows.map((row: { owner_id: string }) => row.owner_id))).toEqual(new Set([user.id]));
    });
  }, 60_000);

  it('a statement that fails (row-level security refuses the row) leaves nothing open for the next call', async () => {
    // More failures than the pool has connections, interleaved with reads: a connection left in
    // an aborted or open transaction would fail a later read ("current transaction is aborted").
    const work = Array.from({ length: 60 }, (_, i) =>
      i % 2 === 0
        ? data.query(
            { table: 'notes', op: 'insert', values: [{ owner_id: userB.id, body: 'not mine' }] },
            userA.accessToken,
          )
        : ownNotes(userA.accessToken),
    );
    const answers = await Promise.all(work);
    answers.forEach(({ status, body }, i) => {
      if (i % 2 === 0) {
        expect(status, JSON.stringify(body)).toBe(403);
        expect(body?.error.code).toBe('permission_denied');
      } else {
        expect(status, JSON.stringify(body)).toBe(200);
        expect(body?.rowCount).toBe(3);
      }
    });
    const after = await Promise.all(Array.from({ length: 20 }, () => ownNotes(userB.accessToken)));
    for (const { status, body } of after) expect([status, body?.rowCount]).toEqual([200, 5]);
  }, 60_000);

  it('a successful change by a user is committed, and no connection is left inside a transaction', async () => {
    const insert = await data.query(
      { table: 'notes', op: 'insert', values: [{ owner_id: userA.id, body: 'committed' }], returning: ['body'] },
      userA.accessToken,
    );
    expect(insert.status, JSON.stringify(insert.body)).toBe(200);
    const seen = await data.query({
      table: 'notes',
      op: 'select',
      where: { column: 'body', op: 'eq', value: 'committed' },
    });
    expect(seen.body?.rowCount).toBe(1);
    if (data.server().services.database.kind === 'postgres') {
      // As the superuser of DATABASE_URL: the data roles see no other session's state.
      const name = (await data.sql('SELECT current_database() AS name')).body?.rows[0].name as string;
      const url = new URL(process.env.DATABASE_URL as string);
      url.pathname = `/${name}`;
      const admin = postgres(url.href, { max: 1, onnotice: () => {} });
      try {
        const sessions = await admin<{ state: string | null }[]>`
          SELECT state FROM pg_stat_activity WHERE datname = ${name} AND pid <> pg_backend_pid()`;
        expect(sessions.length).toBeGreaterThan(0);
        expect(sessions.filter((session) => session.state?.startsWith('idle in transaction'))).toEqual([]);
      } finally {
        await admin.end();
      }
    }
    await data.query({ table: 'notes', op: 'delete', where: { column: 'body', op: 'eq', value: 'committed' } });
  }, 60_000);

  it('the claims and role of one call are not set for the service role’s next statements', async () => {
    await Promise.all(Array.from({ length: 20 }, () => ownNotes(userA.accessToken)));
    const after = await data.sql("SELECT current_user AS role, current_setting('request.jwt.claims', true) AS claims");
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body?.rows[0].role).toBe('plinth_service');
    expect(JSON.parse(after.body?.rows[0].claims)).toEqual({ role: 'service' });
  });
});
