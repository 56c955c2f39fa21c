import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { AppSchemaFile } from './app-schema.js';
import { applySchema } from './apply-schema.js';
import { type Database, type Queryable, serverRole } from './database.js';

const jsonAlways = { 114: (value: unknown) => JSON.stringify(value), 3802: (value: unknown) => JSON.stringify(value) };

const queryable = (db: PGlite | Transaction): Queryable => ({
  query: async <Row>(text: string, params: readonly unknown[] = []) => (await db.query<Row>(text, [...params])).rows,
  run: async (text: string, params: readonly unknown[] = []) => {
    // JSON parameters are always serialised as JSON, a string too (as postgres.js does), so a
    // statement's values mean the same on both engines.
    const result = await db.query<Record<string, unknown>>(text, [...params], { serializers: jsonAlways });
    return {
      rows: result.rows,
      fields: result.fields.map((field) => ({ name: field.name, typeOid: field.dataTypeID })),
      command: result.command ?? '',
      rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
    };
  },
  execScript: async (sql: string) => {
    await db.exec(sql);
  },
});

/**
 * Embedded PostgreSQL (PGlite): in memory, or persisted in a directory. Applies the schema as the
 * embedded superuser, then switches the one connection to `plinth_server` for everything else.
 *
 * @example
 * ```ts
 * const database = await openPgliteDatabase('memory');
 * ```
 */
export async function openPgliteDatabase(
  location: 'memory' | string,
  options: { appSchema?: readonly AppSchemaFile[] } = {},
): Promise<Database> {
  // PGlite creates its own folder but not the ones above it (`.plinth/` on a first run).
  if (location !== 'memory') mkdirSync(location, { recursive: true });
  const db = location === 'memory' ? new PGlite() : new PGlite(location);
  await db.waitReady;
  await applySchema((work) => db.transaction((tx) => work(queryable(tx))), options.appSchema);
  await db.exec(`SET ROLE ${serverRole}`);
  return {
    kind: 'pglite',
    ...queryable(db),
    transaction: (work) => db.transaction((tx) => work(queryable(tx))),
    // One process owns an embedded database, so its notifications arrive before the statement
    // that sent them resolves, and the connection never drops.
    listen: async (channel, onMessage) => db.listen(channel, onMessage),
    close: () => db.close(),
  };
}
