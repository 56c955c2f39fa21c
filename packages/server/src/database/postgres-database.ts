import postgres from 'postgres';
import type { AppSchemaFile } from './app-schema.js';
import { applySchema } from './apply-schema.js';
import { type Database, type Queryable, serverRole } from './database.js';
import { parsePostgresArray } from './postgres-arrays.js';

type Sql = postgres.Sql | postgres.TransactionSql;

const queryable = (sql: Sql): Queryable => ({
  // Prepared (named) statements: the server's statements are a small fixed set, so each is
  // parsed and planned once per connection instead of on every request.
  query: async <Row>(text: string, params: readonly unknown[] = []) =>
    (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as Row[],
  run: async (text: string, params: readonly unknown[] = []) => {
    // simple: false keeps the extended protocol even without parameters, so a text holding
    // several statements is refused by PostgreSQL instead of run in one go.
    const result = await sql.unsafe(
      text,
      params as postgres.ParameterOrJSON<never>[],
      {
        prepare: false,
        simple: false,
      } as postgres.UnsafeQueryOptions,
    );
    return {
      rows: [...result] as Record<string, unknown>[],
      fields: (result.columns ?? []).map((column) => ({ name: column.name, typeOid: column.type })),
      command: result.command ?? '',
      rowCount: result.count ?? result.length,
    };
  },
  execScript: async (script: string) => {
    await sql.unsafe(script).simple();
  },
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

/**
 * PostgreSQL through `postgres` (porsager). The schema is applied over one short-lived connection
 * as the connecting user; the pool then starts every connection as `plinth_server` (the `role`
 * startup parameter), so no request runs with more rights than that role.
 *
 * @example
 * ```ts
 * const database = await openPostgresDatabase('postgres://plinth@db.internal:5432/plinth');
 * ```
 */
export async function openPostgresDatabase(
  url: string,
  options: { max?: number; appSchema?: readonly AppSchemaFile[] } = {},
): Promise<Database> {
  const quiet = { onnotice: () => {} };
  const admin = postgres(url, { ...quiet, max: 1 });
  try {
    await applySchema((work) => admin.begin((tx) => work(queryable(tx))) as Promise<never>, options.appSchema);
  } finally {
    await admin.end();
  }
  const sql = postgres(url, { ...quiet, max: options.max ?? 10, connection: { role: serverRole } });
  await useNullAwareArrayParsers(sql);
  const pinned = new Map<string, Promise<{ sql: postgres.Sql; queryable: Queryable }>>();
  return {
    kind: 'postgres',
    ...queryable(sql),
    transaction: (work) => sql.begin((tx) => work(queryable(tx))) as never,
    // postgres.js keeps one connection for LISTEN, reconnects it by itself, and calls the third
    // argument on every (re)connect.
    listen: async (channel, onMessage, onConnected) => {
      const { unlisten } = await sql.listen(channel, onMessage, onConnected);
      return unlisten;
    },
    pinnedRole: async (role, settings) => {
      const key = JSON.stringify([role, settings]);
      let pool = pinned.get(key);
      if (!pool) {
        pool = (async () => {
          const roleSql = postgres(url, { ...quiet, max: options.max ?? 10, connection: { ...settings, role } });
          await useNullAwareArrayParsers(roleSql);
          return { sql: roleSql, queryable: queryable(roleSql) };
        })();
        pinned.set(key, pool);
      }
      return (await pool).queryable;
    },
    close: async () => {
      const pools = await Promise.allSettled(pinned.values());
      await Promise.all([
        sql.end({ timeout: 5 }),
        ...pools.map((pool) => (pool.status === 'fulfilled' ? pool.value.sql.end({ timeout: 5 }) : undefined)),
      ]);
    },
  };
}
