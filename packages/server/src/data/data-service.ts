import type { DatabaseSchema, QueryRequest, QueryResponse, SqlRequest, SqlResponse } from '@plinth/protocol';
import type { Database, Queryable, StatementResult } from '../database/database.js';
import { HttpError } from '../http/http-error.js';
import type { IdempotencyScope } from '../idempotency/idempotency.js';
import type { Actor } from './act-as.js';
import { checkAppSql } from './app-sql.js';
import { jsonRows } from './json-rows.js';
import { createCursorCodec } from './keyset-cursor.js';
import { type ErrorContext, mapPostgresError } from './postgres-error-mapping.js';
import { type CompiledQuery, compileQuery } from './query-compiler.js';
import {
  createSchemaCache,
  describeSchema,
  isHiddenSchema,
  type SchemaCache,
  type TableInfo,
} from './schema-introspection.js';
import { createStatementRunner } from './statement-runner.js';
import { createTypeNames } from './type-names.js';

/** Settings of the data API. */
export interface DataOptions {
  /** Schemas whose tables and views the data API serves. Default `['public']`. */
  exposedSchemas?: readonly string[];
  /** The most rows a select answers (its `limit` is capped to it). Default 1000. */
  maxRows?: number;
  /** How long one data call's statements may run, in ms. Default 10 000. */
  statementTimeoutMs?: number;
}

/** The data API: `/v1/query`, `/v1/sql`, `/v1/batch` and `/v1/schema`. */
export interface DataService {
  /** The introspected schema; `refresh()` after the app changed its tables. */
  readonly schema: SchemaCache;
  readonly exposedSchemas: readonly string[];
  describe(): Promise<DatabaseSchema>;
  // With `idempotency`, a change's answer is recorded in the change's own transaction (a select
  // needs no record), so a retry after a cut answer is replayed and never commits twice.
  query(query: QueryRequest, actor: Actor, idempotency?: IdempotencyScope): Promise<QueryResponse>;
  sql(statement: SqlRequest, actor: Actor, idempotency?: IdempotencyScope): Promise<SqlResponse>;
  batch(
    steps: readonly ({ kind: 'query'; query: QueryRequest } | { kind: 'sql'; sql: SqlRequest })[],
    actor: Actor,
    idempotency?: IdempotencyScope,
  ): Promise<{ results: (QueryResponse | SqlResponse)[] }>;
}

/** One step ready to run: its statement(s), and how to read and name what comes back. */
type PreparedStep =
  | { kind: 'query'; compiled: CompiledQuery; table: TableInfo }
  | { kind: 'sql'; text: string; params: unknown[] };

type StepResult =
  | { kind: 'query'; main: StatementResult; count?: StatementResult }
  | { kind: 'sql'; result: StatementResult };

function estimatedRows(plan: unknown): number {
  const parsed = typeof plan === 'string' ? (JSON.parse(plan) as unknown) : plan;
  const rows = (parsed as { Plan?: { 'Plan Rows'?: unknown } }[] | undefined)?.[0]?.Plan?.['Plan Rows'];
  return typeof rows === 'number' ? Math.round(rows) : 0;
}

/**
 * Builds the data API over `database`: schema introspection (cached), the query compiler,
 * statements run as the acting role under the statement timeout, and PostgreSQL's errors mapped
 * to stable codes. `cursorKey` signs keyset cursors; every instance must share it.
 *
 * @example
 * ```ts
 * const data = createDataService({ database, cursorKey, exposedSchemas: ['public'] });
 * await data.query({ table: 'posts', op: 'select', limit: 10 }, serviceActor);
 * ```
 */
export function createDataService(settings: DataOptions & { database: Database; cursorKey: Uint8Array }): DataService {
  const { database } = settings;
  const exposedSchemas = [...(settings.exposedSchemas ?? ['public'])];
  for (const name of exposedSchemas) {
    if (isHiddenSchema(name)) {
      throw new Error(
        `The schema ${name} cannot be exposed: it is Plinth's or PostgreSQL's own. Remove it from exposedSchemas / PLINTH_EXPOSED_SCHEMAS.`,
      );
    }
  }
  const maxRows = settings.maxRows ?? 1000;
  const runner = createStatementRunner(database, { statementTimeoutMs: settings.statementTimeoutMs ?? 10_000 });
  const schema = createSchemaCache(database, exposedSchemas);
  const cursors = createCursorCodec(settings.cursorKey);
  const typeNames = createTypeNames(database);

  async function tableFor(query: QueryRequest): Promise<TableInfo> {
    const schemaName = query.schema ?? 'public';
    if (!exposedSchemas.includes(schemaName)) {
      throw new HttpError(
        'validation_failed',
        `schema: "${schemaName}" is not exposed to the data API; exposed: ${exposedSchemas.join(', ')}.`,
        { field: 'schema', name: schemaName },
      );
    }
    const table = await schema.findTable(schemaName, query.table);
    if (!table) {
      throw new HttpError(
        'validation_failed',
        `table: no table or view "${query.table}" in schema ${schemaName}; create it in the app's schema, or check the name.`,
        { field: 'table', name: query.table },
      );
    }
    return table;
  }

  async function prepareQuery(query: QueryRequest): Promise<PreparedStep> {
    const table = await tableFor(query);
    return { kind: 'query', table, compiled: compileQuery(query, table, { maxRows, cursors }) };
  }

  async function prepareSql(statement: SqlRequest): Promise<PreparedStep> {
    await checkAppSql(statement.text);
    return { kind: 'sql', text: statement.text, params: [...(statement.params ?? [])] };
  }

  async function runStep(tx: Queryable, step: PreparedStep): Promise<StepResult> {
    if (step.kind === 'sql') return { kind: 'sql', result: await tx.run(step.text, step.params) };
    const { statement, count } = step.compiled;
    const main = await tx.run(statement.text, statement.params);
    if (!count) return { kind: 'query', main };
    return { kind: 'query', main, count: await tx.run(count.statement.text, count.statement.params) };
  }

  const contextOf = (step: PreparedStep, details?: Record<string, unknown>): ErrorContext => ({
    statementTimeoutMs: runner.statementTimeoutMs,
    ...(details ? { details } : {}),
    ...(step.kind === 'query'
      ? { table: step.table, params: step.compiled.statement.params, paramFields: step.compiled.statement.paramFields }
      : {}),
  });

  /**
   * Runs the steps in one transaction as `actor` and builds the answer from their results before
   * COMMIT, so that `idempotency` can record it in the same transaction; a refusal names the step
   * that failed.
   */
  async function runSteps<T>(
    steps: readonly PreparedStep[],
    actor: Actor,
    numbered: boolean,
    answer: (results: StepResult[], tx: Queryable) => Promise<T>,
    idempotency?: IdempotencyScope,
  ): Promise<T> {
    let current = 0;
    try {
      return await runner.transaction(actor, async (tx) => {
        const results: StepResult[] = [];
        for (current = 0; current < steps.length; current++) {
          results.push(await runStep(tx, steps[current] as PreparedStep));
        }
        const answered = await answer(results, tx);
        if (idempotency) await idempotency.recordIn(tx, answered);
        return answered;
      });
    } catch (error) {
      const step = steps[Math.min(current, steps.length - 1)] as PreparedStep;
      throw mapPostgresError(error, contextOf(step, numbered ? { step: current } : undefined)) ?? error;
    }
  }

  function queryAnswer(step: Extract<PreparedStep, { kind: 'query' }>, result: StepResult): QueryResponse {
    if (result.kind !== 'query') throw new Error('a query step answered as sql');
    const { compiled } = step;
    const page = compiled.page;
    if (!page) {
      return { rows: jsonRows(result.main.rows, result.main.fields), rowCount: result.main.rowCount };
    }
    const more = result.main.rows.length > page.limit;
    const pageRows = more ? result.main.rows.slice(0, page.limit) : result.main.rows;
    const answer: QueryResponse = {
      rows: jsonRows(pageRows, result.main.fields, new Set(page.keyAliases)),
      rowCount: pageRows.length,
    };
    if (page.keys.length > 0) {
      const last = pageRows.at(-1);
      answer.nextCursor =
        more && last
          ? cursors.encode(
              page.scope,
              page.keys,
              page.keyAliases.map((alias) => (last[alias] ?? null) as string | null),
            )
          : null;
    }
    if (compiled.count && result.count) {
      const first = result.count.rows[0] ?? {};
      answer.count =
        compiled.count.mode === 'exact'
          ? Number(first.count ?? 0)
          : estimatedRows(first['QUERY PLAN'] ?? Object.values(first)[0]);
    }
    return answer;
  }

  async function sqlAnswer(result: StepResult, tx: Queryable): Promise<SqlResponse> {
    if (result.kind !== 'sql') throw new Error('a sql step answered as a query');
    const { rows, fields, command, rowCount } = result.result;
    const names = await typeNames.namesOf(
      fields.map((field) => field.typeOid),
      tx,
    );
    return {
      rows: jsonRows(rows, fields),
      columns: fields.map((field) => ({ name: field.name, type: names.get(field.typeOid) ?? String(field.typeOid) })),
      rowCount,
      command,
    };
  }

  return {
    schema,
    exposedSchemas,
    describe: async () => describeSchema(await schema.current()),
    async query(query, actor, idempotency) {
      const step = (await prepareQuery(query)) as Extract<PreparedStep, { kind: 'query' }>;
      const recording = query.op === 'select' ? undefined : idempotency;
      if (idempotency && !recording) idempotency.skip();
      // A recorded change needs a transaction to hold its record.
      const alone = step.compiled.count || recording ? undefined : runner.single(actor);
      if (alone) {
        // One compiled statement, one round trip: no transaction, no role switch to undo.
        try {
          const main = await (await alone).run(step.compiled.statement.text, step.compiled.statement.params);
          return queryAnswer(step, { kind: 'query', main });
        } catch (error) {
          throw mapPostgresError(error, contextOf(step)) ?? error;
        }
      }
      return runSteps([step], actor, false, async ([result]) => queryAnswer(step, result as StepResult), recording);
    },
    async sql(statement, actor, idempotency) {
      return runSteps(
        [await prepareSql(statement)],
        actor,
        false,
        ([result], tx) => sqlAnswer(result as StepResult, tx),
        idempotency,
      );
    },
    async batch(steps, actor, idempotency) {
      // Everything that reads the catalogs or the key cache happens before the transaction:
      // PGlite has one connection, which the transaction holds until it ends.
      const prepared: PreparedStep[] = [];
      for (const [index, step] of steps.entries()) {
        try {
          prepared.push(step.kind === 'query' ? await prepareQuery(step.query) : await prepareSql(step.sql));
        } catch (error) {
          if (error instanceof HttpError && error.code === 'validation_failed') {
            const field = typeof error.details?.field === 'string' ? error.details.field : undefined;
            const prefix = `steps[${index}].${step.kind}`;
            throw new HttpError('validation_failed', `${prefix}.${error.message}`, {
              ...error.details,
              step: index,
              ...(field ? { field: `${prefix}.${field}` } : {}),
            });
          }
          throw error;
        }
      }
      return runSteps(
        prepared,
        actor,
        true,
        async (results, tx) => {
          const answers: (QueryResponse | SqlResponse)[] = [];
          for (const [index, step] of prepared.entries()) {
            const result = results[index] as StepResult;
            answers.push(step.kind === 'query' ? queryAnswer(step, result) : await sqlAnswer(result, tx));
          }
          return { results: answers };
        },
        idempotency,
      );
    },
  };
}
