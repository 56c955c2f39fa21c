/** A result column as the driver describes it: its name and its Postgres type's oid. */
export interface ResultField {
  readonly name: string;
  readonly typeOid: number;
}

/** Everything one statement answered: rows, their columns, the command tag and its row count. */
export interface StatementResult {
  readonly rows: Record<string, unknown>[];
  readonly fields: readonly ResultField[];
  /** The command tag's verb: `SELECT`, `INSERT`, `CREATE`, … (empty when the driver gives none). */
  readonly command: string;
  /** Rows returned by a SELECT or touched by a change, from the command tag. */
  readonly rowCount: number;
}

/** Runs parameterised SQL. Values are always bound parameters, never spliced into text. */
export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs exactly one statement (the extended protocol refuses several) and answers its columns
   * and command tag too: the data API's statements, whose text varies per request, so unprepared.
   */
  run(text: string, params?: readonly unknown[]): Promise<StatementResult>;
  /** Runs a script of several statements, without parameters (schema files). */
  execScript(sql: string): Promise<void>;
}

/**
 * The one database interface the server uses, with the same SQL on embedded PGlite and on
 * PostgreSQL. Every statement runs as the `plinth_server` role: no superuser, no BYPASSRLS, and
 * owner of no table (see docs/server.md, "Database roles").
 */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs an app's data statements: `setup` (SET LOCAL statements: role, claims, timeout) opens a
   * transaction on a data session, `work` runs in it, and whatever happens the session's state
   * (settings, role, advisory locks, prepared statements, cursors, temporary tables) is cleared
   * before the session serves anyone else. On PostgreSQL a data session logs in as a role that
   * can become only the data roles (database/data-login.ts); PGlite has one session, shared with
   * the server, which is reset to plinth_server.
   */
  dataTransaction<T>(setup: string, work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onMessage` with the payload of every `NOTIFY` on `channel`, whichever connection or
   * server instance sent it. `onConnected` runs each time the listening connection is
   * established again: messages sent while it was down are lost, so listeners start afresh.
   * Resolves, once listening, to a function that stops.
   */
  listen(channel: string, onMessage: (payload: string) => void, onConnected?: () => void): Promise<() => Promise<void>>;
  /**
   * Connections of their own that start as `role` with `settings` (startup parameters), for
   * single statements run outside a transaction: one round trip instead of BEGIN, settings,
   * statement, reset and COMMIT. Only for statements that cannot change their session (compiled
   * ones, never an app's SQL text), logged in as the data login role. Undefined where
   * connections cannot be dedicated: PGlite has only one.
   */
  pinnedRole?(role: string, settings: Readonly<Record<string, string>>): Promise<Queryable>;
  /**
   * For one compiled statement of an acting user (whose claims differ per request, so no
   * connection can start with them): `run` sends `BEGIN; setup`, the statement (prepared) and
   * COMMIT together, one round trip, on connections of their own logged in as the data login
   * role. Like pinned roles', these run only compiled statements, never an app's SQL text, so
   * nothing is left to clear: the SET LOCALs end with the transaction. Undefined on PGlite.
   */
  compiledTransaction?(setup: string): Pick<Queryable, 'run'>;
  /**
   * Closes the connections (PostgreSQL) or the embedded database. Statements still running get a
   * few seconds to finish; with `force`, none. Then PostgreSQL's are cancelled on the database
   * (closing a connection alone leaves its statement running there), and PGlite's calls still
   * waiting for their turn are refused with code `57P01`.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** Options of {@link Database.close}. */
export interface CloseOptions {
  /** Give statements still running no time to finish: a forced stop. */
  force?: boolean;
}

/** The role every request's statements run as. Created by the schema; see docs/server.md. */
export const serverRole = 'plinth_server';
