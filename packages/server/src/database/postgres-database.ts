import postgres from 'postgres';
import type { AppSchemaFile } from './app-schema.js';
import { applySchema } from './apply-schema.js';
import { ensureDataLogin, verifyDataLogin } from './data-login.js';
import { type Database, type Queryable, serverRole } from './database.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { parsePostgresArray } from './postgres-arrays.js';

type Sql = postgres.Sql | postgres.TransactionSql;

/** A statement sent (or queued) through postgres.js: awaited, and cancellable on the database. */
type Statement = PromiseLike<unknown> & { cancel(): void };

/**
 * Keeps a statement in a set until it settles, so that close() can cancel what is still running.
 * It starts the statement (postgres.js sends a query once it is awaited), so statements that
 * must go in order are started in that order.
 */
type Track = <Q extends Statement>(statement: Q) => Q;

const untracked: Track = (statement) => statement;

/** A pool and the one-time setup it needs before use (reading the array parsers). */
interface PoolWithParsers {
  pool: postgres.Sql;
  ready: () => Promise<void>;
}

/**
 * Reserved sessions from a pool that is replaced when a connection closes under its work (the
 * database restarted, a backend was terminated). postgres.js 3.4.9's pool does not survive that:
 * release() puts the dead connection back in use, and even unreleased, the pool's next reserve()
 * may wait forever (porsager/postgres#1195, #1199); seen here as /v1/sql answering 503 for 90 s
 * after a database restart, then hanging. So the calls after it get a fresh pool, and the old one
 * is ended, its other statements given the default statement timeout to finish.
 */
function renewingSessions(make: () => PoolWithParsers) {
  let current = make();
  return {
    async use<T>(work: (session: postgres.ReservedSql) => Promise<T>): Promise<T> {
      const from = current;
      await from.ready();
      const session = await from.pool.reserve();
      let closed = false;
      try {
        return await work(session);
      } catch (error) {
        closed = isDatabaseUnavailable(error);
        throw error;
      } finally {
        if (!closed) session.release();
        else if (current === from) {
          current = make();
          from.pool.end({ timeout: 10 }).catch(() => undefined);
        }
      }
    },
  };
}

// Prepared (named) statements by default: the server's statements are a small fixed set, so each
// is parsed and planned once per connection instead of on every request. Data sessions prepare
// nothing: they are cleared with DISCARD ALL after every call, prepared statements included, and
// an app's SQL text is unbounded. `run` prepares only on connections that run nothing but the
// query compiler's statements (pinned roles, compiled transactions): one text per query shape,
// and postgres.js retires each connection after 30 to 60 minutes, so the cache stays bounded.
const queryable = (
  sql: Sql | postgres.ReservedSql,
  prepare = true,
  prepareRun = false,
  track: Track = untracked,
): Queryable => ({
  query: async <Row>(text: string, params: readonly unknown[] = []) =>
    (await track(sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare }))) as unknown as Row[],
  run: async (text: string, params: readonly unknown[] = []) => {
    // simple: false keeps the extended protocol even without parameters, so a text holding
    // several statements is refused by PostgreSQL instead of run in one go.
    const result = await track(
      sql.unsafe(
        text,
        params as postgres.ParameterOrJSON<never>[],
        {
          prepare: prepareRun,
          simple: false,
        } as postgres.UnsafeQueryOptions,
      ),
    );
    return statementResult(result);
  },
  execScript: async (script: string) => {
    await track(sql.unsafe(script).simple());
  },
});

const statementResult = (result: postgres.RowList<postgres.Row[]>) => ({
  rows: [...result] as Record<string, unknown>[],
  fields: (result.columns ?? []).map((column) => ({ name: column.name, typeOid: column.type })),
  command: result.command ?? '',
  rowCount: result.count ?? result.length,
});

type Parser = (value: string) => unknown;

/**
 * Replaces postgres.js's array parsers, which read a NULL element as the string 'NULL', with ones
 * that read it as null. postgres.js makes them once, from pg_type, on the first connection, into
 * the parser table every connection shares, and does not make them again while they exist.
 */
async function useNullAwareArrayParsers(sql: postgres.Sql): Promise<void> {
  await sql`SELECT 1`;
  const options = sql.options as unknown as {
    parsers: Record<number, Parser>;
    shared: { typeArrayMap: Record<number, number> };
  };
  for (const [elementOid, arrayOid] of Object.entries(options.shared.typeArrayMap)) {
    const element = options.parsers[Number(elementOid)] ?? ((value: string) => value);
    // Without postgres.js's `array` mark, the parser gets the whole text, opening brace included.
    options.parsers[arrayOid] = (text) => parsePostgresArray(text, element, arrayOid === 1020 ? ';' : ',');
  }
}

/** `url` with another user and password: the data login, on the same host and database. */
function withLogin(url: string, login: { user: string; password: string }): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(login.user);
  parsed.password = encodeURIComponent(login.password);
  return parsed.href;
}

/** Options of {@link openPostgresDatabase}. */
export interface PostgresOptions {
  /** Connections of the server's own pool. Default 10. */
  max?: number;
  /** Connections of the data pool (app statements). Default 10. */
  dataMax?: number;
  /**
   * Where data statements log in, when the operator made the login role: a role that can become
   * only plinth_anon, plinth_authenticated and plinth_service. Default: a role the server makes
   * and manages (database/data-login.ts).
   */
  dataUrl?: string;
  appSchema?: readonly AppSchemaFile[];
  /**
   * How long making one connection may take, in seconds, before the statement waiting for it
   * fails (and its request gets 503). Default 2: a database that is down is said so quickly.
   */
  connectTimeoutSeconds?: number;
}

/**
 * `make()` once, shared by every caller while it is pending or done; forgotten if it fails, so
 * that a pool first needed while the database was down reads its parsers again once it is back
 * (a cached failure answered 500 until a restart).
 *
 * @example
 * ```ts
 * const ready = retryingOnce(() => useNullAwareArrayParsers(pool));
 * await ready(); // read once and shared; read again on the next call if it failed
 * ```
 */
function retryingOnce<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}

/**
 * PostgreSQL through `postgres` (porsager), in two pools. The server's own pool logs in as
 * `DATABASE_URL` names and starts every connection as `plinth_server` (the `role` startup
 * parameter); it applies the schema and does the server's work. The data pool logs in as the
 * data login role, which can become only the data roles, and runs the app's statements. The
 * start is refused, with one line saying what to change, when that role cannot be made or
 * could become anything else.
 *
 * @example
 * ```ts
 * const database = await openPostgresDatabase('postgres://plinth@db.internal:5432/plinth');
 * ```
 */
export async function openPostgresDatabase(url: string, options: PostgresOptions = {}): Promise<Database> {
  const quiet = {
    onnotice: () => {},
    connect_timeout: options.connectTimeoutSeconds ?? 2,
    // The driver waits before reconnecting after a failure, 3^retries/100 s up to 20 s by
    // default: after a few seconds of outage under load it waited several seconds after the
    // database was back. Capped at half a second, with jitter, service resumes within about that.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5) * (0.5 + Math.random() / 2),
  };
  const admin = postgres(url, { ...quiet, max: 1 });
  let dataUrl = options.dataUrl;
  try {
    await applySchema((work) => admin.begin((tx) => work(queryable(tx))) as Promise<never>, options.appSchema);
    if (!dataUrl) {
      const login = await (admin.begin((tx) => ensureDataLogin(queryable(tx))) as Promise<{
        user: string;
        password: string;
      }>);
      dataUrl = withLogin(url, login);
    }
  } finally {
    await admin.end();
  }
  const dataSql = postgres(dataUrl, { ...quiet, max: options.dataMax ?? 10, prepare: false });
  try {
    await verifyDataLogin(queryable(dataSql, false), options.dataUrl ? 'PLINTH_DATA_DATABASE_URL' : 'DATABASE_URL');
    await useNullAwareArrayParsers(dataSql);
  } catch (error) {
    await dataSql.end({ timeout: 5 });
    throw error;
  }
  const sql = postgres(url, { ...quiet, max: options.max ?? 10, connection: { role: serverRole } });
  await useNullAwareArrayParsers(sql);
  // Every statement the server and the app send, until it settles: a forced stop cancels them.
  const running = new Set<Statement>();
  const track: Track = (statement) => {
    running.add(statement);
    const settled = () => {
      running.delete(statement);
    };
    statement.then(settled, settled);
    return statement;
  };
  // Resolves once every statement running now has settled, or after `ms`, whichever is first.
  const settledWithin = (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      Promise.allSettled([...running]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const pinned = new Map<string, { queryable: Queryable; ready: () => Promise<void> }>();
  const made: postgres.Sql[] = [];
  const loginUrl = dataUrl;
  // One pool per kind, made at once; reading its array parsers needs the database, so that step
  // is tried again on the next call when it failed (the database was down), never cached.
  const poolWithParsers = (connection?: Record<string, string>, prepare = true): PoolWithParsers => {
    const pool = postgres(loginUrl, {
      ...quiet,
      max: options.dataMax ?? 10,
      prepare,
      ...(connection ? { connection } : {}),
    });
    made.push(pool);
    return { pool, ready: retryingOnce(() => useNullAwareArrayParsers(pool)) };
  };
  let compiled: ReturnType<typeof renewingSessions> | undefined;
  // Data sessions: on the pool checked above, then on a fresh one after each renewal.
  let checked: postgres.Sql | undefined = dataSql;
  const dataSessions = renewingSessions(() => {
    const pool = checked;
    checked = undefined;
    return pool ? { pool, ready: async () => {} } : poolWithParsers(undefined, false);
  });
  return {
    kind: 'postgres',
    ...queryable(sql, true, false, track),
    transaction: (work) => sql.begin((tx) => work(queryable(tx, true, false, track))) as never,
    dataTransaction: (setup, work) =>
      dataSessions.use(async (session) => {
        try {
          await session.unsafe(`BEGIN; ${setup}`).simple();
          const result = await work(queryable(session, false, false, track));
          await session.unsafe('COMMIT');
          return result;
        } catch (error) {
          // A warning, not an error, when COMMIT already ended the transaction.
          await session.unsafe('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          await session.unsafe('DISCARD ALL');
        }
      }),
    // postgres.js keeps one connection for LISTEN, reconnects it by itself, and calls the third
    // argument on every (re)connect.
    listen: async (channel, onMessage, onConnected) => {
      const { unlisten } = await sql.listen(channel, onMessage, onConnected);
      return unlisten;
    },
    pinnedRole: async (role, settings) => {
      const key = JSON.stringify([role, settings]);
      let entry = pinned.get(key);
      if (!entry) {
        const { pool, ready } = poolWithParsers({ ...settings, role });
        entry = { queryable: queryable(pool, true, true, track), ready };
        pinned.set(key, entry);
      }
      await entry.ready();
      return entry.queryable;
    },
    compiledTransaction: (setup) => ({
      run: (text, params = []) => {
        // Made on first use: a server whose users never read through the data API makes none.
        compiled ??= renewingSessions(() => poolWithParsers());
        return compiled.use(async (session) => {
          try {
            // Sent back to back, answered in order: BEGIN and the settings, the statement, COMMIT
            // (each started explicitly, in that order: tracking starts the statement).
            const begin = session.unsafe(`BEGIN; ${setup}`).simple().execute();
            const statement = track(
              session.unsafe(
                text,
                params as postgres.ParameterOrJSON<never>[],
                {
                  prepare: true,
                  simple: false,
                } as postgres.UnsafeQueryOptions,
              ),
            );
            const commit = session.unsafe('COMMIT').execute();
            const [, result] = await Promise.all([begin, statement, commit]);
            return statementResult(result);
          } catch (error) {
            // A failed statement aborts the transaction and the queued COMMIT ends it; this is for
            // a failure before the COMMIT was read.
            await session.unsafe('ROLLBACK').catch(() => undefined);
            throw error;
          }
        });
      },
    }),
    close: async (closeOptions = {}) => {
      const force = closeOptions.force ?? false;
      if (!force) await settledWithin(5_000);
      // Ending a connection does not stop its statement on the database (PostgreSQL notices the
      // client is gone only when it next writes to it): a pg_sleep(30) ran on after a forced
      // stop. Each is cancelled by its backend's key, which needs no privilege; one still
      // queued is refused at once.
      for (const statement of running) statement.cancel();
      await settledWithin(2_000);
      const timeout = force ? 0 : 5;
      await Promise.all([sql.end({ timeout }), dataSql.end({ timeout }), ...made.map((pool) => pool.end({ timeout }))]);
    },
  };
}
