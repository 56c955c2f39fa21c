import type { Database, Queryable } from '../database/database.js';
import type { Actor } from './act-as.js';

/** Runs data statements as an actor, in one transaction, under the statement timeout. */
export interface StatementRunner {
  readonly statementTimeoutMs: number;
  /** Runs `work` in one transaction as `actor`: committed if it resolves, rolled back if it throws. */
  transaction<T>(actor: Actor, work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Where one compiled statement may run in one round trip as `actor`: for actors whose claims
   * never change (the service role, anon), connections that start as its role with its claims
   * and the timeout, no transaction; for a user, a transaction opened, run and committed in one
   * round trip (`database.compiledTransaction`). Only on PostgreSQL; undefined otherwise.
   */
  single(actor: Actor): Promise<Pick<Queryable, 'run'>> | undefined;
}

/** The error PostgreSQL raises for a statement timeout, for the engine that cannot raise it. */
class StatementTimeoutError extends Error {
  readonly code = '57014';
  constructor() {
    super('canceling statement due to statement timeout');
  }
}

/** `'…'` for a value inside SET: standard strings, so only the quote itself is doubled. */
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * The SET LOCAL statements that open an actor's data transaction: its role, its claims
 * (`request.jwt.claims`, read by `auth.uid()` and `auth.role()`) and the statement timeout, all
 * ending with the transaction. SET rather than set_config(), which the data roles may not call
 * (schema/007-role-switching.sql). Exported for tests.
 *
 * @example
 * ```ts
 * actorSetup(serviceActor, 10_000);
 * // SET LOCAL ROLE plinth_service; SET LOCAL "request.jwt.claims" = '{"role":"service"}'; …
 * ```
 */
export function actorSetup(actor: Actor, statementTimeoutMs: number): string {
  if (!/^plinth_(anon|authenticated|service)$/.test(actor.role)) throw new Error(`Not a data role: ${actor.role}`);
  return [
    `SET LOCAL ROLE ${actor.role}`,
    `SET LOCAL "request.jwt.claims" = ${literal(JSON.stringify(actor.claims))}`,
    `SET LOCAL statement_timeout = ${Math.trunc(statementTimeoutMs)}`,
  ].join('; ');
}

/**
 * A {@link StatementRunner} over `database`. Each transaction runs on a data session
 * (`database.dataTransaction`): opened with {@link actorSetup}, and cleared of everything the
 * statements left in the session once it ends.
 *
 * PGlite has no timer signal, so PostgreSQL's statement_timeout never fires there: a
 * transaction that took longer than the timeout is rolled back afterwards and answered as a
 * timeout, the same answer as on PostgreSQL, only later. It runs on its own thread, so the
 * server keeps answering meanwhile.
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
    single: (actor) => {
      if (actor.claims.sub !== undefined) {
        return database.compiledTransaction
          ? Promise.resolve(database.compiledTransaction(actorSetup(actor, statementTimeoutMs)))
          : undefined;
      }
      return database.pinnedRole
        ? database.pinnedRole(actor.role, {
            statement_timeout: String(statementTimeoutMs),
            'request.jwt.claims': JSON.stringify(actor.claims),
          })
        : undefined;
    },
    transaction: (actor, work) =>
      database.dataTransaction(actorSetup(actor, statementTimeoutMs), async (tx) => {
        const started = performance.now();
        const result = await work(tx);
        if (softTimeout && performance.now() - started > statementTimeoutMs) throw new StatementTimeoutError();
        return result;
      }),
  };
}
