import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Queryable } from './database.js';

/** One SQL file of the app's schema directory. */
export interface AppSchemaFile {
  readonly name: string;
  readonly sql: string;
}

/** The role that owns the app's tables. The server's own role, plinth_server, never does. */
export const ownerRole = 'plinth_owner';

/**
 * The `*.sql` files of the app's schema directory, in name order (`001-…`, `002-…`). A missing
 * directory is an error that says which path was looked for.
 *
 * @example
 * ```ts
 * const files = readAppSchema('./plinth/schema'); // [{ name: '001-posts.sql', sql: 'CREATE TABLE …' }]
 * ```
 */
export function readAppSchema(dir: string): AppSchemaFile[] {
  const path = resolve(dir);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new Error(
      `The app schema directory ${path} does not exist; create it, or unset schemaDir / PLINTH_SCHEMA_DIR.`,
    );
  }
  return readdirSync(path)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(path, name), 'utf8') }));
}

/**
 * Runs the app's schema files as `plinth_owner` inside the caller's transaction. The files run at
 * every start, like Plinth's own schema, so they must be idempotent (`CREATE TABLE IF NOT EXISTS`,
 * `CREATE OR REPLACE`, `DROP POLICY IF EXISTS` before `CREATE POLICY`).
 *
 * @example
 * ```ts
 * await database.transaction((tx) => applyAppSchema(tx, readAppSchema('./plinth/schema')));
 * ```
 */
export async function applyAppSchema(tx: Queryable, files: readonly AppSchemaFile[]): Promise<void> {
  // SET LOCAL: the owner role ends with the transaction, and the tables it makes are its own, so
  // the role requests run as (plinth_server) owns none of them and cannot alter their policies.
  await tx.query(`SET LOCAL ROLE ${ownerRole}`);
  for (const file of files) {
    try {
      await tx.execScript(file.sql);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`The app schema file ${file.name} failed: ${message}. Fix the file and start again.`, {
        cause: error,
      });
    }
  }
  await tx.query('RESET ROLE');
}
