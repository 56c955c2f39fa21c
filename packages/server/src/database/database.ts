/** Runs parameterised SQL. Values are always bound parameters, never spliced into text. */
export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
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
  close(): Promise<void>;
}

/** The role every request's statements run as. Created by the schema; see docs/server.md. */
export const serverRole = 'plinth_server';
