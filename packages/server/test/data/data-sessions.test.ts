import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/start-server.js';
import { useDataServer } from './data-fixture.js';

// One data connection on PostgreSQL (PGlite has only one session anyway), so that what one call
// leaves in its session is what the next call finds.
const data = useDataServer({ dataPoolSize: 1 });
const onPostgres = Boolean(process.env.DATABASE_URL);

const advisoryLocks = async () => {
  const { status, body } = await data.sql(
    "select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body?.rows[0].n as number;
};

describe('nothing app SQL does to its session outlives the call', () => {
  it('a session-level advisory lock is released when the call ends', async () => {
    expect((await data.sql('select pg_advisory_lock(42)')).status).toBe(200);
    expect(await advisoryLocks()).toBe(0);
  });

  it('and when the call fails after taking it', async () => {
    const { status } = await data.sql('select pg_advisory_lock(43), 1/0');
    expect(status).toBe(400);
    expect(await advisoryLocks()).toBe(0);
  });

  it('and in a batch step', async () => {
    const { status } = await data.batch([{ kind: 'sql', sql: { text: 'select pg_advisory_lock(44)' } }]);
    expect(status).toBe(200);
    expect(await advisoryLocks()).toBe(0);
  });

  it.skipIf(!onPostgres)(
    'a lock on the schema key taken by app SQL does not block another instance from starting',
    async () => {
      // applySchema serialises starts with pg_advisory_xact_lock(7419001).
      expect((await data.sql('select pg_advisory_lock(7419001)')).status).toBe(200);
      const second = await startServer({ database: await testDatabaseUrl(), logLevel: 'silent' });
      await second.close();
    },
  );
});

/** The URL of the test server's PostgreSQL database, which the fixture made. */
async function testDatabaseUrl(): Promise<string> {
  const { body } = await data.sql('select current_database() as name');
  const url = new URL(process.env.DATABASE_URL as string);
  url.pathname = `/${body?.rows[0].name}`;
  return url.href;
}

describe('functions no data role may call', () => {
  it('set_config(), pg_notify() and large-object creation are executable by none of plinth_anon, plinth_authenticated, plinth_service', async () => {
    const { status, body } = await data.sql(
      `select r as role, f as function, has_function_privilege(r, f, 'EXECUTE') as allowed
         from unnest(array['plinth_anon', 'plinth_authenticated', 'plinth_service']) as r,
              unnest(array['pg_catalog.set_config(text, text, boolean)', 'pg_catalog.pg_notify(text, text)',
                           'pg_catalog.lo_create(oid)', 'pg_catalog.lo_creat(integer)',
                           'pg_catalog.lo_from_bytea(oid, bytea)']) as f`,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body?.rows).toHaveLength(15);
    expect(body?.rows.filter((row: { allowed: boolean }) => row.allowed)).toEqual([]);
  });

  it('so app SQL that calls them is a 403, for every data role', async () => {
    const alice = await data.user(`sessions-${Date.now()}@example.com`);
    for (const actAs of [undefined, 'anon', alice.accessToken]) {
      for (const text of [
        "select set_config('role', 'plinth_service', true)",
        "select set_config('request.jwt.claims', '{}', false)",
        "update pg_settings set setting = '0' where name = 'statement_timeout'",
        "select pg_notify('plinth_auth_changes', 'u:00000000-0000-0000-0000-000000000000')",
        "select lo_from_bytea(0, 'x')",
      ]) {
        expect((await data.sql(text, [], actAs)).status, `${text} as ${actAs ?? 'service'}`).toBe(403);
      }
    }
  });
});

describe.skipIf(!onPostgres)('data sessions on PostgreSQL log in as a role that can become only the data roles', () => {
  it('the session user is the data login, and it can become plinth_anon, plinth_authenticated and plinth_service only', async () => {
    const { status, body } = await data.sql(
      `select session_user::text as login, current_user::text as role,
              array(select rolname::text from pg_roles where pg_has_role(session_user, oid, 'MEMBER')
                    and rolname <> session_user order by 1) as becomes,
              (select rolsuper or rolcreaterole or rolcreatedb or rolbypassrls from pg_roles where rolname = session_user) as privileged`,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    const [row] = body?.rows ?? [];
    expect(row.login).toMatch(/^plinth_data_\d+$/);
    expect(row.role).toBe('plinth_service');
    expect(row.becomes).toEqual(['plinth_anon', 'plinth_authenticated', 'plinth_service']);
    expect(row.privileged).toBe(false);
  });
});

describe('a slow statement on the embedded database does not stall the server', () => {
  it('a request that needs no database is answered while pg_sleep runs', async () => {
    let sleeping = true;
    const slow = data.sql('select pg_sleep(1.5)').then((answer) => {
      sleeping = false;
      return answer;
    });
    // Sent after the slow call started: on the server's own thread PGlite held the event loop,
    // and this answer could only come after the sleep.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const quick = await fetch(`${data.server().url}/v1/no-such-route`);
    expect(quick.status).toBe(404);
    expect(sleeping).toBe(true);
    expect((await slow).status).toBe(200);
  });
});
