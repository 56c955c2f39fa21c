import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type RlsActor,
  type RlsOp,
  type RlsOutcome,
  rlsCells,
  rlsNewRow,
  rlsPost,
  rlsSeed,
  rlsSeededIds,
} from '../../../../test/fixtures/example-schema/rls-matrix.js';
import { type ActAs, useDataServer } from './data-fixture.js';

const data = useDataServer();

type Actor = RlsActor;
type Op = RlsOp;

let userA: { id: string; accessToken: string };
let userB: { id: string; accessToken: string };
const users = () => ({ userA: userA.id, userB: userB.id });
const actAs = (actor: Actor): ActAs =>
  actor === 'service'
    ? undefined
    : actor === 'anon'
      ? 'anon'
      : actor === 'userA'
        ? userA.accessToken
        : userB.accessToken;
const post = rlsPost;

async function reseed() {
  const seed = rlsSeed(users());
  const { status, body } = await data.batch([
    { kind: 'query', query: { table: 'posts', op: 'delete', all: true } },
    { kind: 'query', query: { table: 'notes', op: 'delete', all: true } },
    { kind: 'query', query: { table: 'posts', op: 'insert', values: seed.posts } },
    { kind: 'query', query: { table: 'comments', op: 'insert', values: seed.comments } },
    { kind: 'query', query: { table: 'notes', op: 'insert', values: seed.notes } },
  ]);
  expect(status, JSON.stringify(body)).toBe(200);
}

async function attempt(table: string, actor: Actor, op: Op): Promise<RlsOutcome> {
  const where = { column: 'id', op: 'in', value: rlsSeededIds[table] };
  const query =
    op === 'select'
      ? { table, op }
      : op === 'insert'
        ? { table, op, values: rlsNewRow(table, actor, users()) }
        : op === 'update'
          ? { table, op, values: { body: `changed by ${actor}` }, where }
          : { table, op, where };
  const { status, body } = await data.query(query, actAs(actor));
  if (status === 403) {
    expect(body?.error.code).toBe('permission_denied');
    return { status: 403 };
  }
  expect(status, JSON.stringify(body)).toBe(200);
  return { rows: body?.rowCount };
}

const cells = rlsCells;

beforeAll(async () => {
  userA = await data.user('rls-a@example.com');
  userB = await data.user('rls-b@example.com');
});

describe('the RLS matrix: table × {anon, user A, user B, service} × {select, insert, update, delete}', () => {
  beforeEach(reseed);

  it('has every cell', () => {
    expect(cells).toHaveLength(3 * 4 * 4);
  });

  it.each(cells)('$table, $actor, $op → $outcome', async ({ table, actor, op, outcome }) => {
    expect(await attempt(table, actor, op)).toEqual(outcome);
  });
});

describe('acting as a user', () => {
  beforeEach(reseed);

  it('auth.uid() and auth.role() are the acting user’s; the role is plinth_authenticated', async () => {
    const { body } = await data.sql(
      'SELECT auth.uid() AS uid, auth.role() AS role, current_user AS db_role',
      [],
      userA.accessToken,
    );
    expect(body?.rows[0]).toEqual({ uid: userA.id, role: 'authenticated', db_role: 'plinth_authenticated' });
    const anon = await data.sql('SELECT auth.uid() AS uid, auth.role() AS role, current_user AS db_role', [], 'anon');
    expect(anon.body?.rows[0]).toEqual({ uid: null, role: 'anon', db_role: 'plinth_anon' });
    const service = await data.sql('SELECT auth.uid() AS uid, auth.role() AS role, current_user AS db_role');
    expect(service.body?.rows[0]).toEqual({ uid: null, role: 'service', db_role: 'plinth_service' });
  });

  it('a row written for another user is refused by WITH CHECK → 403', async () => {
    const insert = await data.query(
      { table: 'posts', op: 'insert', values: { title: 'forged', author_id: userB.id } },
      userA.accessToken,
    );
    expect(insert.status).toBe(403);
    expect(insert.body?.error.code).toBe('permission_denied');
    // Moving one's own post to another author is refused too.
    const update = await data.query(
      {
        table: 'posts',
        op: 'update',
        values: { author_id: userB.id },
        where: { column: 'id', op: 'eq', value: post(1) },
      },
      userA.accessToken,
    );
    expect(update.status).toBe(403);
  });

  it('another user’s rows are invisible, not an error: a where on them matches nothing', async () => {
    const { body } = await data.query(
      { table: 'posts', op: 'delete', where: { column: 'id', op: 'eq', value: post(4) }, returning: ['id'] },
      userA.accessToken,
    );
    expect(body).toEqual({ rows: [], rowCount: 0 });
  });

  it('raw SQL and batches run under the same policies', async () => {
    const sql = await data.sql('SELECT count(*)::int AS n FROM posts', [], 'anon');
    expect(sql.body?.rows[0].n).toBe(2);
    const batch = await data.batch(
      [
        { kind: 'sql', sql: { text: 'SELECT count(*)::int AS n FROM notes' } },
        { kind: 'query', query: { table: 'posts', op: 'select', count: 'exact', limit: 0 } },
      ],
      userB.accessToken,
    );
    expect(batch.body?.results[0].rows[0].n).toBe(1);
    expect(batch.body?.results[1].count).toBe(3);
  });

  it('an invalid token in x-plinth-act-as is a 401, never a silent fallback to another role', async () => {
    for (const value of ['not-a-token', `${userA.accessToken}x`, 'Bearer ', 'ANON']) {
      const { status, body } = await data.query({ table: 'posts', op: 'select' }, value);
      expect(status, value).toBe(401);
      expect(body?.error.details.header).toBe('x-plinth-act-as');
    }
  });

  it('a revoked session’s token in x-plinth-act-as is a 401', async () => {
    const userC = await data.user('rls-c@example.com');
    const before = await data.query({ table: 'notes', op: 'select' }, userC.accessToken);
    expect(before.status).toBe(200);
    const signOut = await data.call('POST', '/v1/auth/sign-out', {}, { authorization: `Bearer ${userC.accessToken}` });
    expect(signOut.status).toBe(200);
    const after = await data.query({ table: 'notes', op: 'select' }, userC.accessToken);
    expect(after.status).toBe(401);
    expect(after.body?.error.code).toBe('unauthenticated');
  });

  it('act-as still needs the service key', async () => {
    const response = await data.call(
      'POST',
      '/v1/query',
      { table: 'posts', op: 'select' },
      { 'x-plinth-act-as': userA.accessToken, authorization: `Bearer ${userA.accessToken}` },
    );
    expect(response.status).toBe(401);
  });
});

describe('database roles', () => {
  it('no role the data API uses may bypass RLS or log in, and plinth_server owns no app table', async () => {
    const roles = await data.sql(
      // The roles the schema makes (cluster-wide); each database's data login role (PostgreSQL)
      // is checked below.
      "SELECT rolname, rolbypassrls, rolsuper, rolcanlogin FROM pg_roles WHERE rolname LIKE 'plinth\\_%' AND rolname NOT LIKE 'plinth\\_data\\_%' ORDER BY rolname",
    );
    expect(roles.body?.rows).toEqual(
      ['plinth_anon', 'plinth_authenticated', 'plinth_owner', 'plinth_server', 'plinth_service'].map((rolname) => ({
        rolname,
        rolbypassrls: false,
        rolsuper: false,
        rolcanlogin: false,
      })),
    );
    const login = await data.sql(
      "SELECT rolbypassrls, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'plinth_data_' || (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    // PGlite has no data login role: its one session is the server's.
    for (const row of login.body?.rows ?? []) {
      expect(row).toEqual({ rolbypassrls: false, rolsuper: false, rolcreaterole: false, rolcreatedb: false });
    }
    expect(login.body?.rows).toHaveLength(process.env.DATABASE_URL ? 1 : 0);
    const owners = await data.sql(
      "SELECT DISTINCT pg_get_userbyid(relowner)::text AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v', 'S')",
    );
    expect(owners.body?.rows).toEqual([{ owner: 'plinth_owner' }]);
    const forced = await data.sql(
      "SELECT relname::text AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity ORDER BY 1",
    );
    expect(forced.body?.rows.map((row: { name: string }) => row.name)).toEqual(['comments', 'notes', 'posts']);
  });
});
