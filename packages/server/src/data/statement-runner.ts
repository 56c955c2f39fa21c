import type { Database, Queryable } from '../database/database.js';
import { serverRole } from '../database/database.js';
import type { Actor } from './act-as.js';

/** Runs data statements as an actor, in one transaction, under the statement timeout. */
export interface StatementRunner {
  readonly statementTimeoutMs: number;
  /** Runs `work` in one transaction as `actor`: committed if it resolves, rolled back if it throws. */
  transaction<T>(actor: Actor, work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Where one compiled statement may run alone as `actor`, without a transaction: connections
   * that start as its role with its claims and the timeout. Only for actors whose claims never
   * change (the service role, anon) and only on PostgreSQL; undefined otherwise.
   */
  single(actor: Actor): Promise<Queryable> | undefined;
}

/** The error PostgreSQL raises for a statement timeout, for the engine that cannot raise it. */
class StatementTimeoutError extends Error {
  readonly code = '57014';
  constructor() {
    super('canceling statement due to statement timeout');
  }
}

/**
 * A {@link StatementRunner} over `database`. Each transaction starts with one statement that
 * switches to the actor's role, sets its claims (`request.jwt.claims`, read by `auth.uid()` and
 * `auth.role()`) and the statement timeout, all transaction-local; and ends by setting the
 * session's role back to plinth_server, so that nothing a statement did to the session role
 * outlives the call on a pooled connection. App SQL may not call set_config() at all
 * (schema/007-role-switching.sql); the reset is there in case an app's own function does.
 *
 * PGlite runs in this thread and has no timer signal, so PostgreSQL's statement_timeout never
 * fires there: a transaction that took longer than the timeout is rolled back afterwards and
 * answered as a timeout, the same answer as on PostgreSQL, only later.
 *
 * @example
 * ```ts
 * const runner = createStatementRunner(database, { statementTimeoutMs: 10_000 });
 * await runner.transaction(actor, (tx) => tx.run('SELECT * FROM posts'));
 * ```
 */
export function createStatementRunner(database: Database, options: { statementTimeoutMs: number }): StatementRunner {
  const { statementTimeoutMs } = options;
  const softTimeout = database.kind === 'pglite';
  return {
    statementTimeoutMs,
    single: (actor) =>
      actor.claims.sub === undefined && database.pinnedRole
        ? database.pinnedRole(actor.role, {
            statement_timeout: String(statementTimeoutMs),
            'request.jwt.claims': JSON.stringify(actor.claims),
          })
        : undefined,
    transaction: (actor, work) =>
      database.transaction(async (tx) => {
        const started = performance.now();
        await tx.query(
          `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                  set_config('statement_timeout', $3, true)`,
          [actor.role, JSON.stringify(actor.claims), String(statementTimeoutMs)],
        );
        const result = await work(tx);
        if (softTimeout && performance.now() - started > statementTimeoutMs) throw new StatementTimeoutError();
        // SET ROLE, not set_config(): the actor's role may not execute set_config()
        // (schema/007-role-switching.sql), and the session user may always go back.
        await tx.query(`SET ROLE ${serverRole}`);
        return result;
      }),
  };
}
