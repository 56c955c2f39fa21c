import type { AppSchemaFile } from './app-schema.js';
import type { Database } from './database.js';
import { openPgliteDatabase } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';

/**
 * Opens the database the configuration names: `memory` (throwaway PGlite), a `postgres://` URL,
 * or a directory for persistent PGlite (the default, `./.plinth/data`). `appSchema` is the app's
 * own schema files, applied after Plinth's as `plinth_owner`.
 *
 * @example
 * ```ts
 * const database = await openDatabase(process.env.DATABASE_URL ?? '.plinth/data');
 * ```
 */
export function openDatabase(
  location: string,
  options: { appSchema?: readonly AppSchemaFile[] } = {},
): Promise<Database> {
  if (/^postgres(ql)?:\/\//.test(location)) return openPostgresDatabase(location, options);
  return openPgliteDatabase(location, options);
}
