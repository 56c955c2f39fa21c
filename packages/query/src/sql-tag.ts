import type { CallOptions } from '@plinth/core';
import { type SqlRequest, type SqlResponse, sqlRoute } from '@plinth/protocol';
import { type BatchStep, type BatchStepPlan, toBatchStep } from './batch-step.js';
import { type DataContext, dataCallOptions } from './data-context.js';
import { refusal } from './refusal.js';
import { settle } from './thenable.js';

/** What a statement gives: its rows, their columns (name and Postgres type), the count and command tag. */
export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[];
  columns: SqlResponse['columns'];
  rowCount: number;
  /** `SELECT`, `INSERT`, `UPDATE`, … */
  command: string;
}

const refuse = (caller: string, what: string) => refusal(caller, what);

// A `$1` typed into the text would be read as one of the parameters the tag numbers itself.
const handWrittenPlaceholder = /\$\d/;

/**
 * A piece of SQL with its values kept apart: text chunks and, between them, values (sent as
 * `$n` parameters) or other fragments (inlined, their parameters renumbered). Built by the
 * `sql` tag, `sql.ident` and `sql.join`; never from a plain string.
 */
export class SqlFragment<Row = Record<string, unknown>> implements BatchStep<SqlResult<Row>> {
  /** Type only: the row type the statement's rows are declared as. */
  declare readonly __row?: Row;
  readonly #strings: readonly string[];
  readonly #values: readonly unknown[];

  /** @internal Use the `sql` tag. */
  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.#strings = strings;
    this.#values = values;
  }

  /** The statement as it goes on the wire: text with `$1…$n`, and the parameters. */
  toQuery(): SqlRequest & { params: unknown[] } {
    const params: unknown[] = [];
    return { text: this.#render(params), params };
  }

  #render(params: unknown[]): string {
    let text = this.#strings[0] ?? '';
    for (const [index, value] of this.#values.entries()) {
      if (value instanceof SqlFragment) text += value.#render(params);
      else {
        params.push(value);
        text += `$${params.length}`;
      }
      text += this.#strings[index + 1] ?? '';
    }
    return text;
  }

  /** The request, after the checks that need the whole statement. */
  protected checked(caller: string): SqlRequest & { params: unknown[] } {
    const query = this.toQuery();
    if (query.text.trim() === '') throw refuse(caller, 'the statement is empty');
    return query;
  }

  [toBatchStep](): BatchStepPlan<SqlResult<Row>> {
    return {
      step: { kind: 'sql', sql: this.checked('batch()') },
      scope: null,
      decode: async (answer) => answer as SqlResult<Row>,
    };
  }
}

/** A statement made by a client's `sql` tag: await it (each await sends it), or batch it. */
export class SqlQuery<Row = Record<string, unknown>> extends SqlFragment<Row> implements PromiseLike<SqlResult<Row>> {
  readonly #context: DataContext;

  /** @internal Use `plinth.sql`. */
  constructor(context: DataContext, strings: readonly string[], values: readonly unknown[]) {
    super(strings, values);
    this.#context = context;
  }

  /** Sends the statement to `POST /v1/sql`. */
  execute(options?: CallOptions): Promise<SqlResult<Row>> {
    const request = this.checked('sql``');
    return this.#context.transport.call(sqlRoute, request, dataCallOptions(this.#context, 'sql``', options)) as Promise<
      SqlResult<Row>
    >;
  }

  // biome-ignore lint/suspicious/noThenProperty: a statement is awaited like a promise; each await runs it.
  then<A = SqlResult<Row>, B = never>(
    onFulfilled?: ((value: SqlResult<Row>) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return settle(this, onFulfilled, onRejected);
  }

  override [toBatchStep](): BatchStepPlan<SqlResult<Row>> {
    return { ...super[toBatchStep](), scope: { actAs: this.#context.actAs } };
  }
}

function checkTemplate(strings: TemplateStringsArray, values: readonly unknown[], caller: string): void {
  const placeholder = Array.isArray(strings?.raw) ? strings.join('').match(handWrittenPlaceholder) : [''];
  if (placeholder) {
    throw refuse(
      caller,
      placeholder[0]
        ? `the text has a hand-written placeholder (${placeholder[0]}); interpolate the value instead`
        : 'sql is a tagged template (sql`select …`), not a function of a string',
    );
  }
  checkValues(values, caller);
}

function checkValues(values: readonly unknown[], caller: string): void {
  values.forEach((value, index) => {
    const kind = typeof value;
    if (
      value === undefined ||
      kind === 'function' ||
      kind === 'symbol' ||
      (!(value instanceof SqlFragment) && typeof (value as { then?: unknown } | null)?.then === 'function')
    ) {
      throw refuse(
        caller,
        `value ${index + 1} is ${value === undefined ? 'undefined; pass null for SQL NULL' : 'not a value (a function, promise or query?)'}`,
      );
    }
  });
}

/** The `sql` tag: fragments, with `sql.ident` and `sql.join`. */
export interface SqlTag<F> {
  <Row = Record<string, unknown>>(
    strings: TemplateStringsArray,
    ...values: unknown[]
  ): F extends SqlQuery ? SqlQuery<Row> : SqlFragment<Row>;
  /**
   * A quoted identifier (table, column, schema) for a name that is not known in advance:
   * `sql.ident('posts')` → `"posts"`, `sql.ident('app', 'posts')` → `"app"."posts"`.
   */
  ident(...names: string[]): SqlFragment;
  /** Values and fragments joined by `separator` (default `, `): values become parameters. */
  join(items: readonly unknown[], separator?: SqlFragment): SqlFragment;
}

const encoder = /* @__PURE__ */ new TextEncoder();

function ident(...names: string[]): SqlFragment {
  // Postgres would silently truncate a longer name to 63 bytes, perhaps to another object's name.
  if (!names.length || names.some((name) => !name || name.includes('\0') || encoder.encode(name).length > 63)) {
    throw refuse('sql.ident()', `identifiers are 1 to 63 bytes without NUL; got ${JSON.stringify(names)}`);
  }
  return new SqlFragment([names.map((name) => `"${name.replaceAll('"', '""')}"`).join('.')], []);
}

function join(items: readonly unknown[], separator: SqlFragment = new SqlFragment([', '], [])): SqlFragment {
  checkValues(items, 'sql.join()');
  const values = items.flatMap((item, index) => (index === 0 ? [item] : [separator, item]));
  return new SqlFragment(['', ...values.map(() => '')], values);
}

/**
 * The `sql` tag for composing statements without a client: values become `$n` parameters, never
 * text. A fragment runs when passed to `plinth.batch()` or interpolated into `plinth.sql`.
 *
 * @example
 * ```ts
 * import { sql } from '@plinth/query';
 *
 * const mine = sql`author_id = ${me.id}`;
 * const { rows } = await plinth.sql`select * from posts where ${mine} and status = ${'live'}`;
 * // text: 'select * from posts where author_id = $1 and status = $2'
 * ```
 */
export const sql: SqlTag<SqlFragment> = /* @__PURE__ */ Object.assign(
  (strings: TemplateStringsArray, ...values: unknown[]) => {
    checkTemplate(strings, values, 'sql``');
    return new SqlFragment([...strings], values);
  },
  { ident, join },
) as SqlTag<SqlFragment>;

/**
 * The `sql` tag of one data client: each statement it makes can be awaited (run via
 * `POST /v1/sql`) or batched. Without a service key, calling it throws `MissingServiceKeyError`.
 *
 * @example
 * ```ts
 * const tag = sqlTag(context);
 * const { rows } = await tag`select id from posts where author_id = ${me.id}`;
 * ```
 */
export function sqlTag(context: DataContext): SqlTag<SqlQuery> {
  return Object.assign(
    (strings: TemplateStringsArray, ...values: unknown[]) => {
      context.transport.assertCallable(sqlRoute, 'sql``');
      checkTemplate(strings, values, 'sql``');
      return new SqlQuery(context, [...strings], values);
    },
    { ident, join },
  ) as SqlTag<SqlQuery>;
}
