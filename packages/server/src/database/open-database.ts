import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import type { AppSchemaFile } from './app-schema.js';
import type { Database } from './database.js';
import { openPgliteDatabase, type PgliteDurability } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';
import {
  DatabaseUnreachableError,
  isPostgresUrl,
  postgresAddress,
  type StartTarget,
  startErrorOf,
  unreachableReason,
} from './start-errors.js';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** The app's schema files, applied after Plinth's as `plinth_owner`. */
  appSchema?: readonly AppSchemaFile[];
  /** PostgreSQL: where data statements log in, when the operator made that role. */
  dataUrl?: string;
  /** PostgreSQL: connections of the data pool. Default 10. */
  dataPoolSize?: number;
  /** PostgreSQL: how long making a connection may take, in seconds. Default 2. */
  connectTimeoutSeconds?: number;
  /** PGlite in a directory: `'sync'` (default) or `'none'`; see `openPgliteDatabase`. */
  durability?: PgliteDurability;
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
  const { dataUrl, dataPoolSize, appSchema, durability, connectTimeoutSeconds } = options;
  if (isPostgresUrl(location)) {
    return openPostgresDatabase(location, {
      ...(appSchema ? { appSchema } : {}),
      ...(dataUrl ? { dataUrl } : {}),
      ...(dataPoolSize ? { dataMax: dataPoolSize } : {}),
      ...(connectTimeoutSeconds ? { connectTimeoutSeconds } : {}),
    });
  }
  return openPgliteDatabase(location, { ...(appSchema ? { appSchema } : {}), ...(durability ? { durability } : {}) });
}

/** How {@link openDatabaseAtStart} waits, and how it names the settings in its errors. */
export interface StartWaitOptions {
  /** PostgreSQL: how long to keep trying a database that cannot be reached, in seconds (0: one try). */
  waitSeconds: number;
  /** The settings as the user gave them: `DATABASE_URL` or `database`, and so on. */
  names: { database: string; dataUrl: string; waitSeconds: string };
  /** Told each failed try that is tried again, at `warn` (the server's pino logger). */
  logger: { warn(fields: Record<string, unknown>, message: string): void };
}

// Backoff between tries: quick at first (a database a moment late), then no more than every 5 s.
const firstPauseMs = 250;
const longestPauseMs = 5_000;
// One try's bound beyond the driver's connect timeout: an address that takes the connection and
// never answers (a load balancer without a backend) would otherwise hold the start for ever.
const tryLimitMs = 5_000;

/** Resolves once PostgreSQL at `url` answers a query as that login; throws the driver's error otherwise. */
async function answers(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${tryLimitMs / 1000} s`), { code: 'CONNECT_TIMEOUT' })),
      tryLimitMs,
    );
  });
  try {
    await Promise.race([sql`SELECT 1`, silent]);
  } finally {
    clearTimeout(timer);
    await sql.end({ timeout: 0 });
  }
}

/**
 * {@link openDatabase} for the server's start. PostgreSQL that cannot be reached yet (refused,
 * host not found, timed out, starting up) is tried again with backoff for `waitSeconds`, each
 * failed try logged at `warn`; then a {@link DatabaseUnreachableError}. A login PostgreSQL
 * refuses, a database that does not exist and a PGlite directory that cannot be used fail at
 * once, as a `DatabaseStartError`. Both say in one line which setting to fix; other errors are
 * thrown as they are.
 *
 * @example
 * ```ts
 * const database = await openDatabaseAtStart(url, {}, {
 *   waitSeconds: 30,
 *   names: { database: 'DATABASE_URL', dataUrl: 'PLINTH_DATA_DATABASE_URL', waitSeconds: 'PLINTH_DATABASE_WAIT_SECONDS' },
 *   logger,
 * });
 * ```
 */
export async function openDatabaseAtStart(
  location: string,
  options: OpenDatabaseOptions,
  start: StartWaitOptions,
): Promise<Database> {
  const main: StartTarget = { variable: start.names.database, location };
  if (!isPostgresUrl(location)) {
    try {
      return await openDatabase(location, options);
    } catch (error) {
      throw startErrorOf(error, main) ?? error;
    }
  }
  const targets = [main, ...(options.dataUrl ? [{ variable: start.names.dataUrl, location: options.dataUrl }] : [])];
  const started = Date.now();
  const deadline = started + start.waitSeconds * 1000;
  let pauseMs = firstPauseMs;
  for (let attempt = 1; ; attempt++) {
    // Each URL is asked first, so that a failure names the setting whose URL did not answer.
    let failing = main;
    try {
      for (const target of targets) {
        failing = target;
        await answers(target.location);
      }
      failing = main;
      return await openDatabase(location, options);
    } catch (error) {
      const reason = unreachableReason(error);
      if (reason === undefined) throw startErrorOf(error, failing) ?? error;
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) {
        const waited = Math.round((Date.now() - started) / 1000);
        throw new DatabaseUnreachableError(failing, reason, waited, attempt, start.names.waitSeconds);
      }
      const pause = Math.min(pauseMs, leftMs);
      start.logger.warn(
        { attempt, reason },
        `${failing.variable}: cannot reach PostgreSQL at ${postgresAddress(failing.location)} (${reason}); trying again in ${pause / 1000} s`,
      );
      await sleep(pause);
      pauseMs = Math.min(pauseMs * 2, longestPauseMs);
    }
  }
}
