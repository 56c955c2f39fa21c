import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/start-server.js';

// PostgreSQL only: PGlite has one session and no login roles (docs/security.md says what holds
// there instead).
const adminUrl = process.env.DATABASE_URL;
const suffix = randomBytes(5).toString('hex');
const made: { databases: string[]; roles: string[] } = { databases: [], roles: [] };

function urlFor(database: string, user?: string): string {
  const url = new URL(adminUrl as string);
  url.pathname = `/${database}`;
  if (user) {
    url.username = user;
    url.password = '';
  }
  return url.href;
}

async function asAdmin<T>(database: string | undefined, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(database ? urlFor(database) : (adminUrl as string), { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

afterAll(async () => {
  if (!adminUrl) return;
  await asAdmin(undefined, async (sql) => {
    for (const name of made.databases) {
      const [database] = await sql`SELECT oid::int AS oid FROM pg_database WHERE datname = ${name}`;
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (database) made.roles.push(`plinth_data_${database.oid}`);
    }
    for (const role of made.roles) await sql.unsafe(`DROP ROLE IF EXISTS ${role}`);
  });
});

async function sqlCall(server: RunningServer, text: string, serviceKey = server.serviceKey) {
  const response = await fetch(`${server.url}/v1/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  type Answer = { rows: Record<string, unknown>[] } & Record<string, unknown>;
  return { status: response.status, body: (await response.json()) as Answer };
}

describe.skipIf(!adminUrl)('DATABASE_URL naming a role that is not a superuser, but has CREATEROLE', () => {
  let toRun: string | undefined;
  const user = `plinth_test_cr_${suffix}`;
  const database = `plinth_test_cr_${suffix}`;

  it('is refused at start with one line saying what to run, until a superuser revokes set_config()', async () => {
    await asAdmin(undefined, async (sql) => {
      await sql.unsafe(`CREATE ROLE ${user} LOGIN CREATEROLE`);
      made.roles.push(user);
      await sql.unsafe(`CREATE DATABASE ${database} OWNER ${user}`);
      made.databases.push(database);
    });
    const refused = await startServer({ database: urlFor(database, user), logLevel: 'silent' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    const message = (refused as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^DATABASE_URL: /);
    expect(message).toContain('REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean)');
    toRun = /run once in this database: (.*)\)\. Fix this/.exec(message)?.[1];
    expect(toRun).toBeDefined();
  });

  it('and once that is done, data statements cannot reach the CREATEROLE user, Plinth’s tables, or another role', async () => {
    // What the refusal said to run, run as a superuser.
    await asAdmin(database, (sql) => sql.unsafe(toRun as string));
    const server = await startServer({ database: urlFor(database, user), logLevel: 'silent' });
    try {
      const who = await sqlCall(
        server,
        `select session_user::text as login,
                array(select rolname::text from pg_roles where pg_has_role(session_user, oid, 'MEMBER')
                      and rolname <> session_user order by 1) as becomes`,
      );
      expect(who.status, JSON.stringify(who.body)).toBe(200);
      expect(who.body.rows[0]?.login).toMatch(/^plinth_data_\d+$/);
      expect(who.body.rows[0]?.becomes).toEqual(['plinth_anon', 'plinth_authenticated', 'plinth_service']);
      const attempts: [string, number][] = [
        [`select set_config('role', '${user}', true)`, 403],
        [`select set_config('role', 'plinth_server', true)`, 403],
        ["select set_config('statement_timeout', '0', false)", 403],
        ["select pg_notify('plinth_auth_changes', 'u:00000000-0000-0000-0000-000000000000')", 403],
        ['select lo_create(0)', 403],
        ['select * from plinth.users', 403],
        ['select * from plinth.keys', 403],
        [`;SET ROLE ${user}`, 400],
        [`/* /* */ */ SET SESSION AUTHORIZATION ${user}`, 400],
        [`-- x\rSET ROLE ${user}`, 400],
        ["select pg_read_file('/etc/hostname')", 403],
        [`CREATE ROLE esc_${suffix} SUPERUSER`, 400],
      ];
      for (const [text, status] of attempts) {
        const answer = await sqlCall(server, text);
        expect(answer.status, `${text}: ${JSON.stringify(answer.body)}`).toBe(status);
      }
      const still = await sqlCall(server, 'select current_user::text as role');
      expect(still.body.rows[0]?.role).toBe('plinth_service');
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!adminUrl)('PLINTH_DATA_DATABASE_URL: a data login role the operator made', () => {
  const database = `plinth_test_dl_${suffix}`;
  const good = `plinth_test_login_${suffix}`;
  const bad = `plinth_test_wide_${suffix}`;

  it('is used when it can become only the data roles, and refused when it can become more', async () => {
    await asAdmin(undefined, async (sql) => {
      await sql.unsafe(`CREATE DATABASE ${database}`);
      made.databases.push(database);
      // The data roles exist once any Plinth server has started on this cluster.
      await sql.unsafe(`CREATE ROLE ${good} LOGIN NOINHERIT`);
      await sql.unsafe(`CREATE ROLE ${bad} LOGIN NOINHERIT`);
      made.roles.push(good, bad);
    });
    // The first start makes the keys, shown only then.
    const first = await startServer({ database: urlFor(database), logLevel: 'silent' });
    const serviceKey = first.serviceKey;
    await first.close();
    await asAdmin(undefined, async (sql) => {
      await sql.unsafe(`GRANT plinth_anon, plinth_authenticated, plinth_service TO ${good}, ${bad}`);
      await sql.unsafe(`GRANT pg_read_server_files TO ${bad}`);
    });

    const refused = await startServer({
      database: urlFor(database),
      dataDatabaseUrl: urlFor(database, bad),
      logLevel: 'silent',
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/^PLINTH_DATA_DATABASE_URL: .*can become pg_read_server_files/);

    // Without its own grant for Idempotency-Key records, the role is refused too, with the fix.
    const unrecorded = await startServer({
      database: urlFor(database),
      dataDatabaseUrl: urlFor(database, good),
      logLevel: 'silent',
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(unrecorded).toBeInstanceOf(ConfigError);
    expect((unrecorded as Error).message).toMatch(
      /^PLINTH_DATA_DATABASE_URL: .*may not write Idempotency-Key records \(GRANT USAGE ON SCHEMA plinth TO .*; GRANT INSERT ON plinth\.idempotency_answers TO /,
    );
    await asAdmin(database, async (sql) => {
      await sql.unsafe(`GRANT USAGE ON SCHEMA plinth TO ${good}`);
      await sql.unsafe(`GRANT INSERT ON plinth.idempotency_answers TO ${good}`);
    });

    const server = await startServer({
      database: urlFor(database),
      dataDatabaseUrl: urlFor(database, good),
      logLevel: 'silent',
    });
    try {
      const who = await sqlCall(server, 'select session_user::text as login, current_user::text as role', serviceKey);
      expect(who.status, JSON.stringify(who.body)).toBe(200);
      expect(who.body.rows[0]).toEqual({ login: good, role: 'plinth_service' });
    } finally {
      await server.close();
    }
  });
});
