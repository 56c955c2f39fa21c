import type { Database } from './database.js';
import { openPgliteDatabase } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';

/**
 * Opens the database the configuration names: `memory` (throwaway PGlite), a `postgres://` URL,
 * or a directory for persistent PGlite (the default, `./.plinth/data`).
 *
 * @example
 * ```ts
 * const database = await openDatabase(process.env.DATABASE_URL ?? '.plinth/data');
 * ```
 */
export function openDatabase(location: string): Promise<Database> {
  if (/^postgres(ql)?:\/\//.test(location)) return openPostgresDatabase(location);
  return openPgliteDatabase(location);
}
