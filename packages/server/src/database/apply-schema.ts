import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AppSchemaFile, applyAppSchema } from './app-schema.js';
import type { Queryable } from './database.js';

/** Bumped whenever a file under schema/ changes. */
export const schemaVersion = 15;

/**
 * The folder of Plinth's declarative schema: `schema/` at the package root, found by walking up
 * from this module (it runs from src/ in tests, from dist/ when installed).
 */
function schemaDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(dir, 'schema');
    if (existsSync(join(candidate, '001-roles.sql'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('Plinth cannot find its schema/ folder; the @plinth/server install is incomplete.');
}

/**
 * The schema's SQL files, in the order they apply.
 *
 * @example
 * ```ts
 * schemaFiles().map((file) => file.name); // ['001-roles.sql', '002-plinth.sql']
 * ```
 */
export function schemaFiles(): { name: string; sql: string }[] {
  const dir = schemaDirectory();
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * Brings the database to the current declarative schema in one transaction, idempotently, and
 * records the version; then applies the app's own schema files, if any, as `plinth_owner` in the
 * same transaction. Refuses a database written by a newer server, whose schema this one does not
 * know.
 *
 * @example
 * ```ts
 * await applySchema((work) => adminDatabase.transaction(work), readAppSchema('./plinth/schema'));
 * ```
 */
export async function applySchema(
  inTransaction: <T>(work: (tx: Queryable) => Promise<T>) => Promise<T>,
  appSchema: readonly AppSchemaFile[] = [],
): Promise<void> {
  const files = schemaFiles();
  await inTransaction(async (tx) => {
    // Serialises concurrent starts of several instances against one database.
    await tx.query('SELECT pg_advisory_xact_lock(7419001)');
    const [known] = await tx.query<{ exists: boolean }>(
      "SELECT to_regclass('plinth.schema_version') IS NOT NULL AS exists",
    );
    const current = known?.exists
      ? (await tx.query<{ version: number }>('SELECT version FROM plinth.schema_version'))[0]?.version
      : undefined;
    if (current !== undefined && current > schemaVersion) {
      throw new Error(
        `The database holds Plinth schema version ${current}, newer than this server's ${schemaVersion}. Upgrade @plinth/server, or point DATABASE_URL at another database.`,
      );
    }
    for (const file of files) await tx.execScript(file.sql);
    await tx.query(
      `INSERT INTO plinth.schema_version (singleton, version) VALUES (true, $1)
       ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, applied_at = now()`,
      [schemaVersion],
    );
    if (appSchema.length > 0) await applyAppSchema(tx, appSchema);
  });
}
