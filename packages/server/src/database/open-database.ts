import type { AppSchemaFile } from './app-schema.js';
import type { Database } from './database.js';
import { openPgliteDatabase } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** The app's schema files, applied after Plinth's as `plinth_owner`. */
  appSchema?: readonly AppSchemaFile[];
  /** PostgreSQL: where data statements log in, when the operator made that role. */
  dataUrl?: string;
  /** PostgreSQL: connections of the data pool. Default 10. */
  dataPoolSize?: number;
}

/**
 * Opens the database the configuration names: `memory` (throwaway PGlite), a `postgres://` URL,
 * or a directory for persistent PGlite (the default, `./.plinth/data`). `appSchema` is the app's
 * own schema files, applied after Plinth's as `plinth_owner`; `dataUrl` and `dataPoolSize` shape
 * PostgreSQL's data pool (see docs/security.md, "Data sessions").
 *
 * @example
 * ```ts
 * const database = await openDatabase(process.env.DATABASE_URL ?? '.plinth/data');
 * ```
 */
export function openDatabase(location: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const { dataUrl, dataPoolSize, appSchema } = options;
  if (/^postgres(ql)?:\/\//.test(location)) {
    return openPostgresDatabase(location, {
      ...(appSchema ? { appSchema } : {}),
      ...(dataUrl ? { dataUrl } : {}),
      ...(dataPoolSize ? { dataMax: dataPoolSize } : {}),
    });
  }
  return openPgliteDatabase(location, appSchema ? { appSchema } : {});
}
