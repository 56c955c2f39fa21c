import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config.js';
import type { Queryable } from './database.js';

/** The roles data statements run as: all a data session may become. */
export const dataRoles = ['plinth_anon', 'plinth_authenticated', 'plinth_service'] as const;

/** Credentials of the role that data connections log in as. */
export interface DataLogin {
  readonly user: string;
  readonly password: string;
}

// Functions the data roles must not execute (schema/007-role-switching.sql says why).
const forbiddenFunctions = [
  'pg_catalog.set_config(text, text, boolean)',
  'pg_catalog.pg_notify(text, text)',
  'pg_catalog.lo_create(oid)',
  'pg_catalog.lo_creat(integer)',
  'pg_catalog.lo_from_bytea(oid, bytea)',
];

/**
 * Makes, or brings up to date, this database's data login role as the `DATABASE_URL` user: a
 * role that may log in, is no superuser, creates no roles or databases, bypasses no row-level
 * security, owns nothing, and is a member of the three data roles only. Its name carries the
 * database's oid, since roles are shared by every database of a cluster and each database keeps
 * its own password; the password is made once and kept in `plinth.server_secrets`, which only
 * the server's role reads. Run inside the schema's transaction.
 *
 * @example
 * ```ts
 * const login = await ensureDataLogin(tx); // { user: 'plinth_data_16384', password: '…' }
 * ```
 */
export async function ensureDataLogin(tx: Queryable): Promise<DataLogin> {
  const [identity] = await tx.query<{ oid: number; owner: string }>(
    'SELECT oid::int AS oid, current_user AS owner FROM pg_database WHERE datname = current_database()',
  );
  const user = `plinth_data_${identity?.oid}`;
  await tx.query(
    `INSERT INTO plinth.server_secrets (name, value) VALUES ('data_login', jsonb_build_object('password', $1::text))
     ON CONFLICT (name) DO NOTHING`,
    [randomBytes(24).toString('base64url')],
  );
  const [secret] = await tx.query<{ password: string }>(
    "SELECT value ->> 'password' AS password FROM plinth.server_secrets WHERE name = 'data_login'",
  );
  const password = secret?.password ?? '';
  // base64url only: safe between quotes, and DDL takes no bind parameters.
  if (!/^[A-Za-z0-9_-]+$/.test(password)) throw new Error('The stored data login password is malformed.');
  const [existing] = await tx.query<{ exists: boolean }>(
    'SELECT count(*) > 0 AS exists FROM pg_roles WHERE rolname = $1',
    [user],
  );
  try {
    await tx.query('SAVEPOINT data_login');
    await tx.query(
      existing?.exists
        ? `ALTER ROLE "${user}" WITH LOGIN PASSWORD '${password}'`
        : `CREATE ROLE "${user}" LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION PASSWORD '${password}'`,
    );
    await tx.query(`GRANT ${dataRoles.join(', ')} TO "${user}"`);
    // Its own privilege, used only by the server after RESET ROLE at the end of a data write:
    // the Idempotency-Key record, in the write's transaction (schema/009-idempotency.sql).
    await tx.query(`GRANT USAGE ON SCHEMA plinth TO "${user}"`);
    await tx.query(`GRANT INSERT ON plinth.idempotency_answers TO "${user}"`);
    await tx.query('RELEASE SAVEPOINT data_login');
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT data_login');
    if ((error as { code?: string }).code !== '42501') throw error;
    throw new ConfigError(
      'DATABASE_URL',
      `its user ${identity?.owner} may not create the data login role ${user} (${(error as Error).message}). Grant it CREATEROLE (ALTER ROLE ${identity?.owner} CREATEROLE), or make a login role that is a member of ${dataRoles.join(', ')} only and name it in PLINTH_DATA_DATABASE_URL.`,
    );
  }
  return { user, password };
}

/**
 * Checks, over a data connection, every promise the data session makes: it may become no role
 * but the data roles (so not the superuser, not plinth_server, not pg_read_server_files or
 * pg_execute_server_program), has no role attributes, owns nothing, and the data roles may not
 * call set_config() (which would switch between them or lift the statement timeout),
 * pg_notify() (the server's own channels) or create large objects (storage outside tables); and
 * the login role itself may insert Idempotency-Key records (its only privilege of its own).
 * Refuses the start with one line that says what to change.
 *
 * @example
 * ```ts
 * await verifyDataLogin(dataConnection, 'PLINTH_DATA_DATABASE_URL');
 * ```
 */
export async function verifyDataLogin(data: Queryable, variable: string): Promise<void> {
  const [me] = await data.query<{
    name: string;
    attributes: string[];
    becomes: string[];
    owns: number;
    mayCall: string[];
    mayRecord: boolean;
  }>(
    `SELECT r.rolname AS name,
            array_remove(ARRAY[
              CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
              CASE WHEN r.rolcreatedb THEN 'CREATEDB' END, CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
              CASE WHEN r.rolreplication THEN 'REPLICATION' END], NULL) AS attributes,
            ARRAY(SELECT o.rolname::text FROM pg_roles o
                  WHERE o.oid <> r.oid AND pg_has_role(r.oid, o.oid, 'MEMBER') ORDER BY 1) AS becomes,
            ((SELECT count(*) FROM pg_class WHERE relowner = r.oid)
              + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
              + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
              + (SELECT count(*) FROM pg_type WHERE typowner = r.oid)
              + (SELECT count(*) FROM pg_database WHERE datdba = r.oid))::int AS owns,
            ARRAY(SELECT DISTINCT f FROM unnest($1::text[]) AS d, unnest($2::text[]) AS f
                  WHERE has_function_privilege(d, f, 'EXECUTE') ORDER BY 1) AS "mayCall",
            has_schema_privilege(r.oid, 'plinth', 'USAGE')
              AND has_table_privilege(r.oid, 'plinth.idempotency_answers', 'INSERT') AS "mayRecord"
       FROM pg_roles r WHERE r.rolname = current_user`,
    [dataRoles, forbiddenFunctions],
  );
  if (!me) throw new ConfigError(variable, 'the data connection has no role; check the URL.');
  const problems: string[] = [];
  const extra = me.becomes.filter((role) => !(dataRoles as readonly string[]).includes(role));
  if (me.attributes.length > 0) problems.push(`it has ${me.attributes.join(', ')} (ALTER ROLE ${me.name} NO…)`);
  if (extra.length > 0) problems.push(`it can become ${extra.join(', ')} (REVOKE … FROM ${me.name})`);
  const missing = dataRoles.filter((role) => !me.becomes.includes(role));
  if (missing.length > 0) problems.push(`it is not a member of ${missing.join(', ')} (GRANT … TO ${me.name})`);
  if (me.owns > 0) problems.push(`it owns ${me.owns} objects (REASSIGN OWNED BY ${me.name} TO plinth_owner)`);
  if (me.mayCall.length > 0) {
    problems.push(
      `the data roles may call ${me.mayCall.join(', ')} (as a superuser, run once in this database: REVOKE EXECUTE ON FUNCTION ${forbiddenFunctions.join(', ')} FROM PUBLIC; GRANT EXECUTE ON FUNCTION pg_catalog.pg_notify(text, text) TO plinth_server)`,
    );
  }
  if (!me.mayRecord) {
    problems.push(
      `it may not write Idempotency-Key records (GRANT USAGE ON SCHEMA plinth TO ${me.name}; GRANT INSERT ON plinth.idempotency_answers TO ${me.name})`,
    );
  }
  if (problems.length > 0) {
    throw new ConfigError(
      variable,
      `data statements would run as ${me.name}, which must be able to become only ${dataRoles.join(', ')}; ${problems.join('; ')}. Fix this, then start again.`,
    );
  }
}
