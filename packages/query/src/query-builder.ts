import { type CallOptions, ProtocolError } from '@plinth/core';
import { type Condition, type QueryRequest, type QueryResponse, queryRoute } from '@plinth/protocol';
import { type BatchStep, type BatchStepPlan, toBatchStep } from './batch-step.js';
import { type DataContext, dataCallOptions } from './data-context.js';
import { RowCountError } from './query-errors.js';
import { refusal } from './refusal.js';
import { type RowSchema, validateRows } from './row-schema.js';
import { settle } from './thenable.js';
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

// Only what the server could not catch, or would catch too late, is checked here: a filter that
// silently vanished, an unscoped change. Shapes (a negative limit, a bad direction) are the
// types' and the server's job (a 400 naming the field), which keeps this code small enough to
// ride along in browser bundles of `@plinth/client`.

// Column lists written as strings, parsed: the same few strings come back on every call.
const parsedColumnLists = new Map<string, readonly string[]>();
const maxParsedColumnLists = 500;

/** The columns of a column list: `undefined` for every column (`'*'` or nothing). */
function parseColumns(columns: unknown, caller: string): string[] | undefined {
  if (columns === undefined || columns === '*') return undefined;
  if (typeof columns === 'string') {
    const parsed = parsedColumnLists.get(columns);
    if (parsed) return parsed as string[];
  }
  const list = typeof columns === 'string' ? columns.split(',').map((part) => part.trim()) : (columns as string[]);
  if (!Array.isArray(list) || !list.length || list.some((column) => !column || typeof column !== 'string')) {
    throw refusal(caller, `columns are names: 'id, title' or ['id', 'title']`);
  }
  if (list.includes('*')) return undefined;
  if (typeof columns === 'string' && parsedColumnLists.size < maxParsedColumnLists) {
    // Frozen: one array is shared by every query written with this string.
    parsedColumnLists.set(columns, Object.freeze(list));
  }
  return list;
}

function count(value: number, name: string, caller: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw refusal(caller, `${name}() takes a whole number ≥ 0`, undefined, name);
  return value;
}

// A change's values: a row object, or a non-empty array of them (update: one non-empty object).
function rows(values: unknown, caller: string, one = false): QueryRequest['values'] {
  const list = Array.isArray(values) && !one ? values : [values];
  const isRow = (row: unknown) => typeof row === 'object' && row !== null && !Array.isArray(row);
  if (!list.length || !list.every(isRow) || (one && !Object.keys(values as object).length)) {
    throw refusal(
      caller,
      one ? 'takes an object of the columns to set' : 'takes a row object or a non-empty array of them',
      undefined,
      'values',
    );
  }
  return values as QueryRequest['values'];
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

  #with(request: Partial<QueryRequest>, mode = this.#state.mode): QueryBuilder {
    return new QueryBuilder(this.#context, { ...this.#state, request: { ...this.#state.request, ...request }, mode });
  }

  where(filter: Filter<object>): QueryBuilder {
    const added = toCondition(filter, this.#state.caller);
    const existing = this.#state.request.where;
    const and: Condition[] = existing === undefined ? [] : 'and' in existing ? existing.and : [existing];
    return this.#with({ where: and.length ? { and: [...and, added] } : added });
  }

  orderBy(column: string, direction?: OrderDirection, { nulls }: OrderOptions = {}): QueryBuilder {
    const key = { column, ...(direction && { direction }), ...(nulls && { nulls }) };
    return this.#with({ order: [...(this.#state.request.order ?? []), key] });
  }

  limit(limit: number): QueryBuilder {
    return this.#with({ limit: count(limit, 'limit', this.#state.caller) });
  }

  offset(offset: number): QueryBuilder {
    return this.#with({ offset: count(offset, 'offset', this.#state.caller) });
  }

  single(): QueryBuilder {
    return this.#one('single');
  }

  maybeSingle(): QueryBuilder {
    return this.#one('maybeSingle');
  }

  #one(mode: 'single' | 'maybeSingle'): QueryBuilder {
    const { op, limit, returning } = this.#state.request;
    // Two rows are enough to tell "one" from "several"; asking for no more keeps a mistaken
    // filter from pulling a whole table. A change gives its rows back for the check.
    return this.#with(op === 'select' ? { limit: Math.min(limit ?? 2, 2) } : { returning: returning ?? ['*'] }, mode);
  }

  count(count: 'exact' | 'estimated' = 'exact'): QueryBuilder {
    return this.#with({ count, limit: 0 }, 'count');
  }

  page({ limit, after, count }: PageOptions): QueryBuilder {
    return this.#with({ limit, ...(after && { after }), ...(count && { count }) }, 'page');
  }

  returning(columns?: unknown): QueryBuilder {
    return this.#with({ returning: parseColumns(columns, this.#state.caller) ?? ['*'] }, 'rows');
  }

  all(): QueryBuilder {
    return this.#with({ all: true });
  }

  toQuery(): QueryRequest {
    return structuredClone(this.#state.request);
  }

  /** The request, after the checks that need the whole query. */
  #checked(): QueryRequest {
    const { request, caller } = this.#state;
    if ((request.op === 'update' || request.op === 'delete') && !request.where && !request.all) {
      throw refusal(
        caller,
        `without .where() this would change every row; add .where(...), or .all() if that is meant`,
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

  #decode(answer: QueryResponse): unknown {
    // Synchronous unless rows are validated by a schema: one promise hop less per call.
    const { rowSchema, caller } = this.#state;
    if (!rowSchema) return this.#shape(answer, answer.rows);
    return validateRows(rowSchema, answer.rows, caller).then((rows) => this.#shape(answer, rows));
  }

  // biome-ignore lint/suspicious/noThenProperty: a query is awaited like a promise; each await runs it.
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return settle(this, onFulfilled, onRejected);
  }

  [toBatchStep](): BatchStepPlan<unknown> {
    return {
      step: { kind: 'query', query: this.#checked() },
      scope: { actAs: this.#context.actAs },
      decode: async (answer) => this.#decode(answer as QueryResponse),
    };
  }

  #shape({ rows, rowCount, count, nextCursor }: QueryResponse, checked: unknown[]): unknown {
    const { mode, caller, request } = this.#state;
    if (mode === 'count') {
      if (typeof count === 'number') return count;
      throw new ProtocolError(`${caller}: the server answered a count() without a count.`, {
        code: 'invalid_response',
      });
    }
    if (mode === 'change') return { rowCount };
    if (mode === 'single' ? rows.length !== 1 : mode === 'maybeSingle' && rows.length > 1) {
      throw new RowCountError(
        `${caller}: expected ${mode === 'single' ? 'exactly one row' : 'at most one row'}, got ${rows.length > 1 && request.op === 'select' ? 'several' : rows.length || 'none'}.`,
        { code: 'unexpected_row_count', details: { rows: rows.length } },
      );
    }
    if (mode === 'page')
      return { rows: checked, nextCursor: nextCursor ?? null, ...(count !== undefined && { count }) };
    return mode === 'rows' ? checked : (checked[0] ?? null);
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
  if (!name || typeof name !== 'string') throw refusal('from()', 'takes a table name');
  const caller = `from(${JSON.stringify(name)})`;
  // Thrown now, before any builder exists: a browser client must fail where the call is written.
  context.transport.assertCallable(queryRoute, caller);
  return new Table(context, name, rowSchema, caller) as unknown as TableQuery<never, never, never>;
}

/** What `from(table)` returns: a class, so a call allocates one object rather than five closures. */
class Table {
  readonly #context: DataContext;
  readonly #target: { schema?: string; table: string };
  readonly #rowSchema: RowSchema | undefined;
  readonly #caller: string;

  constructor(context: DataContext, name: string, rowSchema: RowSchema | undefined, caller: string) {
    const dot = name.indexOf('.');
    this.#context = context;
    this.#target = dot > 0 ? { schema: name.slice(0, dot), table: name.slice(dot + 1) } : { table: name };
    this.#rowSchema = rowSchema;
    this.#caller = caller;
  }

  #start(op: QueryRequest['op'], request: Partial<QueryRequest>, mode: ResultMode): QueryBuilder {
    return new QueryBuilder(this.#context, {
      request: { ...this.#target, op, ...request },
      mode,
      rowSchema: this.#rowSchema,
      caller: `${this.#caller}.${op}()`,
    });
  }

  select(columns?: unknown): QueryBuilder {
    const list = parseColumns(columns, `${this.#caller}.select()`);
    return this.#start('select', list ? { columns: list } : {}, 'rows');
  }

  insert(values: object): QueryBuilder {
    return this.#start('insert', { values: rows(values, `${this.#caller}.insert()`) }, 'change');
  }

  upsert(values: object, { onConflict, ignoreDuplicates }: UpsertOptions<Record<string, unknown>> = {}): QueryBuilder {
    return this.#start(
      'upsert',
      {
        values: rows(values, `${this.#caller}.upsert()`),
        ...(onConflict && { onConflict: typeof onConflict === 'string' ? [onConflict] : [...onConflict] }),
        ...(ignoreDuplicates !== undefined && { ignoreDuplicates }),
      },
      'change',
    );
  }

  update(values: object): QueryBuilder {
    return this.#start('update', { values: rows(values, `${this.#caller}.update()`, true) }, 'change');
  }

  delete(): QueryBuilder {
    return this.#start('delete', {}, 'change');
  }
}
