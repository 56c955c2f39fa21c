import { isDatabaseUnavailable, unavailableCodes } from './database-unavailable.js';

// What the drivers throw when the start cannot open the database, turned into one line that names
// the setting to fix. postgres.js throws Node's socket errors (`ECONNREFUSED`, `ENOTFOUND`), its
// own codes (`CONNECT_TIMEOUT`) and PostgreSQL's (`PostgresError` with a SQLSTATE `code`); PGlite's
// directory fails in `mkdirSync` and the lock file, with Node's file-system codes.

/** What the start was opening: the setting as the user named it, and its value. */
export interface StartTarget {
  /** `DATABASE_URL`, `PLINTH_DATA_DATABASE_URL`, or the option's name (`database`, `dataDatabaseUrl`). */
  readonly variable: string;
  /** The `postgres://` URL or the PGlite directory. */
  readonly location: string;
}

/** The stable codes of {@link DatabaseStartError}. */
export type DatabaseStartCode =
  | 'database_unreachable'
  | 'database_login_refused'
  | 'database_missing'
  | 'database_path_unusable';

/**
 * The database could not be opened at start, for a reason the message names in one line after
 * the setting to fix (`DATABASE_URL: …`). The CLI prints it after `plinth: ` and exits 2.
 */
export class DatabaseStartError extends Error {
  constructor(
    readonly code: DatabaseStartCode,
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'DatabaseStartError';
  }
}

/** PostgreSQL did not answer for as long as the start was allowed to wait (`database_unreachable`). */
export class DatabaseUnreachableError extends DatabaseStartError {
  constructor(
    target: StartTarget,
    /** Why the last try failed: `connection refused`, `host not found`, `timed out`, … */
    readonly reason: string,
    readonly waitedSeconds: number,
    /** How many times the start tried to connect. */
    readonly attempts: number,
    /** The setting that makes the start wait longer, as the user would set it. */
    waitSetting: string,
  ) {
    super(
      'database_unreachable',
      target.variable,
      `cannot reach PostgreSQL at ${postgresAddress(target.location)} (${reason}) after waiting ${waitedSeconds} s; ` +
        `check the host and port, or set ${waitSetting} to wait longer.`,
    );
    this.name = 'DatabaseUnreachableError';
  }
}

/**
 * `host:port` of a PostgreSQL URL, without the user and password, for messages and logs.
 *
 * @example
 * ```ts
 * postgresAddress('postgres://app:secret@db.internal/app'); // 'db.internal:5432'
 * ```
 */
export function postgresAddress(url: string): string {
  try {
    const parsed = new URL(url);
    // postgres.js's own defaults when the URL leaves them out.
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
  } catch {
    return 'the configured address';
  }
}

/** Whether a database location is a PostgreSQL URL (else a PGlite directory, or `memory`). */
export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//.test(location);

const codeOf = (error: unknown): string | undefined => {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
};

/**
 * Why PostgreSQL cannot be reached right now, when waiting may fix it (refused, host not found,
 * timed out, starting up); undefined for every other error. A host that is not found counts: a
 * container's name resolves only once its container runs.
 *
 * @example
 * ```ts
 * unreachableReason(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })); // 'connection refused'
 * ```
 */
export function unreachableReason(error: unknown): string | undefined {
  const code = codeOf(error);
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === undefined || !isDatabaseUnavailable(error)) return undefined;
  return unavailableCodes[code] ?? (error as Error).message;
}

/**
 * The one-line error for a failure at start that waiting cannot fix: a login PostgreSQL refuses,
 * a database that does not exist, a PGlite directory that is a file or cannot be written.
 * Undefined for anything else, which the caller throws as it is.
 *
 * @example
 * ```ts
 * const failure = startErrorOf(error, { variable: 'DATABASE_URL', location: url });
 * throw failure ?? error;
 * ```
 */
export function startErrorOf(error: unknown, target: StartTarget): DatabaseStartError | undefined {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const { variable, location } = target;
  if (isPostgresUrl(location)) {
    const at = postgresAddress(location);
    switch (code) {
      case '28P01':
      case 'SASL_SIGNATURE_MISMATCH':
        return new DatabaseStartError(
          'database_login_refused',
          variable,
          `PostgreSQL at ${at} refused the login (${message}); check the user name and password in the URL.`,
        );
      case '28000':
        return new DatabaseStartError(
          'database_login_refused',
          variable,
          `PostgreSQL at ${at} refused the login (${message}); check the user name in the URL, and that pg_hba.conf lets it in from this host.`,
        );
      case '3D000': {
        // Without a path postgres.js asks for the database named like the user.
        const name =
          decodeURIComponent(new URL(location).pathname.slice(1)) || decodeURIComponent(new URL(location).username);
        return new DatabaseStartError(
          'database_missing',
          variable,
          `PostgreSQL at ${at} has no database named ${name}; create it (CREATE DATABASE ${name}), or fix the name at the end of the URL.`,
        );
      }
    }
    return undefined;
  }
  const path = (error as { path?: unknown }).path;
  const shown = typeof path === 'string' ? path : location;
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return new DatabaseStartError(
        'database_path_unusable',
        variable,
        `${shown} is a file, not a directory; name a directory for the embedded database, or a postgres:// URL.`,
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new DatabaseStartError(
        'database_path_unusable',
        variable,
        `cannot write to ${shown} (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}); let the server's user write there, or name another directory.`,
      );
  }
  return undefined;
}
