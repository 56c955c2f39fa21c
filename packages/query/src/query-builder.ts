import { type CallOptions, ProtocolError, ValidationError } from '@plinth/core';
import { type Condition, type QueryRequest, type QueryResponse, queryRoute } from '@plinth/protocol';
import { type BatchStep, type BatchStepPlan, toBatchStep } from './batch-step.js';
import { type DataContext, dataCallOptions } from './data-context.js';
import { RowCountError } from './query-errors.js';
import { type RowSchema, validateRows } from './row-schema.js';
import type { CheckColumns, ColumnList, ColumnName, Picked } from './types.js';
import { type Filter, toCondition } from './where.js';

/** Sort direction of `.orderBy()`. */
export type OrderDirection = 'asc' | 'desc';

/** Where `null`s sort in `.orderBy()`; Postgres puts them last ascending and first descending. */
export interface OrderOptions {
  nulls?: 'first' | 'last';
}

/** Options of `.page()`: the page size, the cursor of the previous page's `nextCursor`, a count. */
export interface PageOptions {
  limit: number;
  /** The previous page's `nextCursor`; none (or `null`) for the first page. */
  after?: string | null | undefined;
  /** Also count every row matching `where`, ignoring paging. */
  count?: 'exact' | 'estimated' | undefined;
}

/** One page of rows, and the cursor of the next (`null` on the last page). */
export interface Page<Row> {
  rows: Row[];
  nextCursor: string | null;
  /** With `page({ count })`: every row matching `where`, ignoring paging. */
  count?: number;
}

/** What a change without `.returning()` gives: how many rows it touched. */
export interface ChangeResult {
  rowCount: number;
}

/** Options of `.upsert()`. */
export interface UpsertOptions<Row> {
  /** The unique columns that decide whether a row exists; the primary key by default. */
  onConflict?: ColumnName<Row> | readonly ColumnName<Row>[];
  /** Leave existing rows alone instead of updating them. */
  ignoreDuplicates?: boolean;
}

/**
 * A query ready to run: await it (each await sends it), call `.execute({ signal })` for per-call
 * options, or pass it to `batch()`.
 */
export interface Query<Result> extends PromiseLike<Result>, BatchStep<Result> {
  /** Sends the query. Client-side refusals (an unscoped change) are thrown synchronously. */
  execute(options?: CallOptions): Promise<Result>;
  /** The query as it goes on the wire (`POST /v1/query`). */
  toQuery(): QueryRequest;
}

/** `from(table).select(...)`: rows of `Selected`, filtered and sorted on columns of `Row`. */
export interface SelectQuery<Row, Selected> extends Query<Selected[]> {
  /** Adds a filter; several `.where()` calls must all hold. */
  where(filter: Filter<Row>): SelectQuery<Row, Selected>;
  /** Adds a sort key; call again for the next key. */
  orderBy(column: ColumnName<Row>, direction?: OrderDirection, options?: OrderOptions): SelectQuery<Row, Selected>;
  limit(count: number): SelectQuery<Row, Selected>;
  offset(count: number): SelectQuery<Row, Selected>;
  /** Exactly one row, or a {@link RowCountError} (`details.rows` is 0 or 2). */
  single(): Query<Selected>;
  /** The row, or `null` when there is none; a {@link RowCountError} when there are several. */
  maybeSingle(): Query<Selected | null>;
  /** Only the number of rows matching `where`. */
  count(kind?: 'exact' | 'estimated'): Query<number>;
  /** A page of rows and the cursor of the next (keyset paging: stable under inserts). */
  page(options: PageOptions): Query<Page<Selected>>;
}

/** A change with `.returning()`: the changed rows. */
export interface ReturningQuery<Selected> extends Query<Selected[]> {
  /** Exactly one changed row, or a {@link RowCountError} (the change has still been made). */
  single(): Query<Selected>;
  /** The changed row or `null`; a {@link RowCountError} when several changed. */
  maybeSingle(): Query<Selected | null>;
}

/** `insert(...)` or `upsert(...)`. */
export interface InsertQuery<Row> extends Query<ChangeResult> {
  /** Gives back the inserted rows, or their `columns`. */
  returning<const S extends ColumnList<Row> = '*'>(columns?: S & CheckColumns<Row, S>): ReturningQuery<Picked<Row, S>>;
}

/** `update(...)` or `delete()`: refused without `.where()` or `.all()`. */
export interface ChangeQuery<Row> extends Query<ChangeResult> {
  where(filter: Filter<Row>): ChangeQuery<Row>;
  /** Allows the change to touch every row: without it (and without `where`), it is refused. */
  all(): ChangeQuery<Row>;
  /** Gives back the changed rows, or their `columns`. */
  returning<const S extends ColumnList<Row> = '*'>(
    columns?: S & CheckColumns<Row, S>,
  ): ReturningChangeQuery<Row, Picked<Row, S>>;
}

/** `update(...)` or `delete()` with `.returning()`. */
export interface ReturningChangeQuery<Row, Selected> extends ReturningQuery<Selected> {
  where(filter: Filter<Row>): ReturningChangeQuery<Row, Selected>;
  all(): ReturningChangeQuery<Row, Selected>;
}

/** `from(table)`: the operations on one table or view. */
export interface TableQuery<Row, Insert, Update> {
  /** Rows, with every column (no argument, or `'*'`) or the columns named: `'id, title'` or `['id', 'title']`. */
  select<const S extends ColumnList<Row> = '*'>(columns?: S & CheckColumns<Row, S>): SelectQuery<Row, Picked<Row, S>>;
  /** Inserts one row or several. */
  insert(values: Insert | readonly Insert[]): InsertQuery<Row>;
  /** Inserts, or on a conflict over `onConflict` (the primary key by default) updates or skips. */
  upsert(values: Insert | readonly Insert[], options?: UpsertOptions<Row>): InsertQuery<Row>;
  /** Sets `values` on the rows `.where()` picks (or every row, with `.all()`). */
  update(values: Update): ChangeQuery<Row>;
  /** Deletes the rows `.where()` picks (or every row, with `.all()`). */
  delete(): ChangeQuery<Row>;
}

type ResultMode = 'rows' | 'single' | 'maybeSingle' | 'count' | 'page' | 'change';

interface BuilderState {
  readonly request: QueryRequest;
  readonly mode: ResultMode;
  readonly rowSchema: RowSchema | undefined;
  readonly caller: string;
}

const refuse = (caller: string, what: string, code = 'invalid_request', field?: string) =>
  new ValidationError(`${caller}: ${what}. No request was made.`, {
    code,
    details: field === undefined ? undefined : { field },
  });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The columns of a column list: `undefined` for every column (`'*'` or nothing). Only names:
 * the server checks each against the schema and quotes it.
 */
function parseColumns(columns: unknown, caller: string): string[] | undefined {
  if (columns === undefined || columns === '*') return undefined;
  const list =
    typeof columns === 'string'
      ? columns.split(',').map((part) => part.trim())
      : Array.isArray(columns)
        ? columns
        : null;
  if (list === null || list.length === 0 || list.some((column) => typeof column !== 'string' || column === '')) {
    throw refuse(caller, `columns must be names, as 'id, title' or ['id', 'title']; got ${JSON.stringify(columns)}`);
  }
  return list.includes('*') ? undefined : (list as string[]);
}

function checkCount(value: unknown, name: string, caller: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw refuse(caller, `${name}() takes a whole number ≥ 0; got ${String(value)}`, 'invalid_request', name);
  }
  return value;
}

/**
 * The one builder behind every {@link TableQuery} operation. Immutable: each method returns a new
 * builder, so a base query can be shared and extended.
 */
class QueryBuilder implements Query<unknown> {
  readonly #context: DataContext;
  readonly #state: BuilderState;

  constructor(context: DataContext, state: BuilderState) {
    this.#context = context;
    this.#state = state;
  }

  #with(request: Partial<QueryRequest>, mode: ResultMode = this.#state.mode): QueryBuilder {
    return new QueryBuilder(this.#context, { ...this.#state, request: { ...this.#state.request, ...request }, mode });
  }

  #only(method: string, ops: readonly QueryRequest['op'][]): void {
    if (!ops.includes(this.#state.request.op)) {
      throw refuse(this.#state.caller, `.${method}() does not apply to ${this.#state.request.op}`);
    }
  }

  where(filter: Filter<object>): QueryBuilder {
    this.#only('where', ['select', 'update', 'delete']);
    const added = toCondition(filter, this.#state.caller);
    const existing = this.#state.request.where;
    const where: Condition =
      existing === undefined
        ? added
        : 'and' in existing
          ? { and: [...existing.and, added] }
          : { and: [existing, added] };
    return this.#with({ where });
  }

  orderBy(column: string, direction?: OrderDirection, options: OrderOptions = {}): QueryBuilder {
    this.#only('orderBy', ['select']);
    const { caller } = this.#state;
    if (typeof column !== 'string' || column === '') throw refuse(caller, 'orderBy() takes a column name');
    if (direction !== undefined && direction !== 'asc' && direction !== 'desc') {
      throw refuse(caller, `orderBy() direction is 'asc' or 'desc'; got ${String(direction)}`);
    }
    if (options.nulls !== undefined && options.nulls !== 'first' && options.nulls !== 'last') {
      throw refuse(caller, `orderBy() nulls is 'first' or 'last'; got ${String(options.nulls)}`);
    }
    const key = {
      column,
      ...(direction === undefined ? {} : { direction }),
      ...(options.nulls === undefined ? {} : { nulls: options.nulls }),
    };
    return this.#with({ order: [...(this.#state.request.order ?? []), key] });
  }

  limit(count: number): QueryBuilder {
    this.#only('limit', ['select']);
    return this.#with({ limit: checkCount(count, 'limit', this.#state.caller) });
  }

  offset(count: number): QueryBuilder {
    this.#only('offset', ['select']);
    return this.#with({ offset: checkCount(count, 'offset', this.#state.caller) });
  }

  single(): QueryBuilder {
    return this.#one('single');
  }

  maybeSingle(): QueryBuilder {
    return this.#one('maybeSingle');
  }

  #one(mode: 'single' | 'maybeSingle'): QueryBuilder {
    const { request, caller } = this.#state;
    if (request.op !== 'select' && request.returning === undefined) {
      throw refuse(caller, `.${mode}() on a change needs .returning() first`);
    }
    // Two rows are enough to tell "one" from "several"; asking for no more keeps a mistaken
    // filter from pulling a whole table.
    const limit = request.op === 'select' ? Math.min(request.limit ?? 2, 2) : undefined;
    return this.#with(limit === undefined ? {} : { limit }, mode);
  }

  count(kind: 'exact' | 'estimated' = 'exact'): QueryBuilder {
    this.#only('count', ['select']);
    if (kind !== 'exact' && kind !== 'estimated') throw refuse(this.#state.caller, "count() is 'exact' or 'estimated'");
    return this.#with({ count: kind, limit: 0 }, 'count');
  }

  page(options: PageOptions): QueryBuilder {
    this.#only('page', ['select']);
    const { caller } = this.#state;
    if (!isRecord(options)) throw refuse(caller, 'page() takes { limit, after?, count? }');
    const { limit, after, count } = options;
    if (after !== undefined && after !== null && (typeof after !== 'string' || after === '')) {
      throw refuse(caller, "page() 'after' is the previous page's nextCursor", 'invalid_request', 'after');
    }
    if (count !== undefined && count !== 'exact' && count !== 'estimated') {
      throw refuse(caller, "page() count is 'exact' or 'estimated'", 'invalid_request', 'count');
    }
    return this.#with(
      {
        limit: checkCount(limit, 'limit', caller),
        ...(after ? { after } : {}),
        ...(count ? { count } : {}),
      },
      'page',
    );
  }

  returning(columns?: unknown): QueryBuilder {
    this.#only('returning', ['insert', 'upsert', 'update', 'delete']);
    return this.#with({ returning: parseColumns(columns, this.#state.caller) ?? ['*'] }, 'rows');
  }

  all(): QueryBuilder {
    this.#only('all', ['update', 'delete']);
    return this.#with({ all: true });
  }

  toQuery(): QueryRequest {
    return structuredClone(this.#state.request);
  }

  /** The request, after the checks that need the whole query. */
  #checked(): QueryRequest {
    const { request, caller } = this.#state;
    if ((request.op === 'update' || request.op === 'delete') && request.where === undefined && !request.all) {
      throw refuse(
        caller,
        `${request.op} without .where() would change every row of ${request.table}; add .where(...), or .all() if every row is meant`,
        'unscoped_change',
      );
    }
    return request;
  }

  execute(options?: CallOptions): Promise<unknown> {
    const { caller } = this.#state;
    const request = this.#checked();
    const answer = this.#context.transport.call(queryRoute, request, dataCallOptions(this.#context, caller, options));
    return answer.then((response) => this.#decode(response));
  }

  // biome-ignore lint/suspicious/noThenProperty: a query is awaited like a promise; each await runs it.
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    let run: Promise<unknown>;
    try {
      run = this.execute();
    } catch (error) {
      run = Promise.reject(error);
    }
    return run.then(onFulfilled, onRejected);
  }

  [toBatchStep](): BatchStepPlan<unknown> {
    return {
      step: { kind: 'query', query: this.#checked() },
      scope: { actAs: this.#context.actAs },
      decode: (answer) => this.#decode(answer as QueryResponse),
    };
  }

  async #decode(answer: QueryResponse): Promise<unknown> {
    const { mode, rowSchema, caller, request } = this.#state;
    if (mode === 'count') {
      if (typeof answer.count !== 'number') {
        throw new ProtocolError(`${caller}: the server answered a count() without a count.`, {
          code: 'invalid_response',
        });
      }
      return answer.count;
    }
    if (mode === 'change' && request.returning === undefined) return { rowCount: answer.rowCount };
    const { rows } = answer;
    if ((mode === 'single' && rows.length !== 1) || (mode === 'maybeSingle' && rows.length > 1)) {
      const expected = mode === 'single' ? 'exactly one row' : 'at most one row';
      throw new RowCountError(
        `${caller}: expected ${expected}, got ${rows.length === 0 ? 'none' : rows.length === 2 && request.op === 'select' ? 'several' : String(rows.length)}.`,
        { code: 'unexpected_row_count', details: { rows: rows.length, expected: mode === 'single' ? 1 : '0 or 1' } },
      );
    }
    const checked = rowSchema ? await validateRows(rowSchema, rows, caller) : rows;
    if (mode === 'single') return checked[0];
    if (mode === 'maybeSingle') return checked[0] ?? null;
    if (mode === 'page') {
      return {
        rows: checked,
        nextCursor: answer.nextCursor ?? null,
        ...(answer.count === undefined ? {} : { count: answer.count }),
      };
    }
    return checked;
  }
}

/**
 * `from(table)`: checks at once that this client may run data calls, then offers the operations.
 *
 * @example
 * ```ts
 * const posts = tableQuery(context, 'posts', undefined);
 * const rows = await posts.select('id, title').where({ status: 'live' });
 * ```
 */
export function tableQuery(
  context: DataContext,
  name: string,
  rowSchema: RowSchema | undefined,
): TableQuery<never, never, never> {
  const caller = `from(${JSON.stringify(name)})`;
  if (typeof name !== 'string' || name === '') throw refuse('from()', 'from() takes a table name');
  // Thrown now, before any builder exists: a browser client must fail where the call is written.
  context.transport.assertCallable(queryRoute, caller);
  const dot = name.indexOf('.');
  const target = dot > 0 ? { schema: name.slice(0, dot), table: name.slice(dot + 1) } : { table: name };

  const start = (op: QueryRequest['op'], request: Partial<QueryRequest>, mode: ResultMode) => {
    const opCaller = `${caller}.${op}()`;
    context.transport.assertCallable(queryRoute, opCaller);
    return new QueryBuilder(context, { request: { ...target, op, ...request }, mode, rowSchema, caller: opCaller });
  };

  const rowsOf = (values: unknown, op: string): Record<string, unknown> | Record<string, unknown>[] => {
    const list = Array.isArray(values) ? values : [values];
    if (list.length === 0 || !list.every(isRecord)) {
      throw refuse(
        `${caller}.${op}()`,
        `${op}() takes a row object or a non-empty array of them`,
        'invalid_request',
        'values',
      );
    }
    return values as Record<string, unknown> | Record<string, unknown>[];
  };

  const table = {
    select: (columns?: unknown) =>
      start('select', { ...withColumns(parseColumns(columns, `${caller}.select()`)) }, 'rows'),
    insert: (values: unknown) => start('insert', { values: rowsOf(values, 'insert') }, 'change'),
    upsert: (values: unknown, options: UpsertOptions<Record<string, unknown>> = {}) => {
      const onConflict = options.onConflict;
      const columns =
        onConflict === undefined ? undefined : typeof onConflict === 'string' ? [onConflict] : [...onConflict];
      if (columns?.length === 0) throw refuse(`${caller}.upsert()`, 'onConflict names at least one column');
      return start(
        'upsert',
        {
          values: rowsOf(values, 'upsert'),
          ...(columns === undefined ? {} : { onConflict: columns }),
          ...(options.ignoreDuplicates === undefined ? {} : { ignoreDuplicates: options.ignoreDuplicates }),
        },
        'change',
      );
    },
    update: (values: unknown) => {
      if (!isRecord(values) || Object.keys(values).length === 0) {
        throw refuse(
          `${caller}.update()`,
          'update() takes an object with at least one column to set',
          'invalid_request',
          'values',
        );
      }
      return start('update', { values }, 'change');
    },
    delete: () => start('delete', {}, 'change'),
  };
  return table as unknown as TableQuery<never, never, never>;
}

const withColumns = (columns: string[] | undefined) => (columns === undefined ? {} : { columns });
