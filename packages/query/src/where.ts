import { type Condition, type FilterOperator, filterOperators } from '@plinth/protocol';
import { refusal } from './refusal.js';

/**
 * The operators a column can be compared with, as an object: `{ gt: 5 }`, `{ in: ['a', 'b'] }`,
 * `{ isNull: true }`. Several operators in one object must all hold.
 */
export interface Operators<V> {
  eq?: V;
  neq?: V;
  gt?: V;
  gte?: V;
  lt?: V;
  lte?: V;
  in?: readonly V[];
  notIn?: readonly V[];
  like?: Extract<V, string> extends never ? never : string;
  ilike?: Extract<V, string> extends never ? never : string;
  isNull?: boolean;
  /** The column (an array, range or jsonb) contains the value: Postgres `@>`. */
  contains?: V;
  /** The column is contained by the value: Postgres `<@`. */
  containedBy?: V;
}

/**
 * Column → value (equality; `null` means `is null`), or column → {@link Operators}. All entries
 * must hold. To compare a jsonb column with an object, write `{ eq: { ... } }`: a plain object is
 * read as operators.
 */
export type WhereObject<Row> = { [K in keyof Row]?: Row[K] | Operators<NonNullable<Row[K]>> };

declare const rowType: unique symbol;
const conditionKey = Symbol('plinth.condition');

/** A condition made by {@link and}, {@link or} or {@link not}. */
export interface Combined<Row> {
  readonly [conditionKey]: Condition;
  /** Type only: the row the condition is about. */
  readonly [rowType]?: (row: Row) => void;
}

/** What `.where()` takes: a {@link WhereObject}, or a condition made by `and`, `or` and `not`. */
export type Filter<Row> = WhereObject<Row> | Combined<Row>;

const operatorNames = new Set<string>(filterOperators);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function leaves(column: string, value: unknown, caller: string): Condition[] {
  // An undefined anywhere would make its filter vanish and widen the query: refused.
  const bad = (what: string) => refusal(caller, `where "${column}" ${what}`, 'invalid_request', column);
  if (value === undefined) throw bad('is undefined; compare with null, or leave the column out');
  if (value === null) return [{ column, op: 'isNull', value: true }];
  if (!isPlainObject(value)) return [{ column, op: 'eq', value }];
  const entries = Object.entries(value);
  if (!entries.length) throw bad('has no operator');
  return entries.map(([op, operand]) => {
    if (!operatorNames.has(op)) throw bad(`: "${op}" is not an operator (for a jsonb object, use { eq: {...} })`);
    if (operand === undefined) throw bad(`: ${op} is undefined`);
    if ((op === 'in' || op === 'notIn') && !Array.isArray(operand)) throw bad(`: ${op} takes an array`);
    return { column, op: op as FilterOperator, value: operand };
  });
}

/**
 * The wire {@link Condition} of a filter: one leaf per column and operator, joined by `and`.
 *
 * @example
 * ```ts
 * toCondition({ author_id: 7, status: { in: ['draft', 'live'] } }, 'where()');
 * // { and: [{ column: 'author_id', op: 'eq', value: 7 }, { column: 'status', op: 'in', value: ['draft', 'live'] }] }
 * ```
 */
export function toCondition(filter: Filter<object>, caller: string): Condition {
  if (typeof filter === 'object' && filter !== null && conditionKey in filter) return filter[conditionKey];
  if (!isPlainObject(filter)) throw refusal(caller, 'where() takes an object of columns, or and()/or()/not()');
  const all: Condition[] = [];
  for (const column of Object.keys(filter)) all.push(...leaves(column, filter[column], caller));
  if (!all.length) throw refusal(caller, 'the filter is empty; to change every row, say .all()');
  return all.length === 1 ? (all[0] as Condition) : { and: all };
}

const combined = <Row>(condition: Condition): Combined<Row> => ({ [conditionKey]: condition }) as Combined<Row>;

function combine<Row>(kind: 'and' | 'or', filters: readonly Filter<Row>[]): Combined<Row> {
  if (!filters.length) throw refusal(`${kind}()`, 'needs at least one filter');
  const conditions = filters.map((filter) => toCondition(filter as Filter<object>, `${kind}()`));
  return combined(conditions.length === 1 ? (conditions[0] as Condition) : ({ [kind]: conditions } as Condition));
}

/**
 * A condition that holds when any of the filters holds.
 *
 * @example
 * ```ts
 * plinth.from('posts').select().where(or({ status: 'live' }, { author_id: me.id }));
 * ```
 */
export function or<Row = Record<string, unknown>>(...filters: NoInfer<Filter<Row>>[]): Combined<Row> {
  return combine('or', filters);
}

/**
 * A condition that holds when every filter holds (as several `.where()` calls do).
 *
 * @example
 * ```ts
 * plinth.from('posts').select().where(or(and({ status: 'draft' }, { author_id: me.id }), { status: 'live' }));
 * ```
 */
export function and<Row = Record<string, unknown>>(...filters: NoInfer<Filter<Row>>[]): Combined<Row> {
  return combine('and', filters);
}

/**
 * A condition that holds when the filter does not.
 *
 * @example
 * ```ts
 * plinth.from('posts').select().where(not({ status: { in: ['deleted', 'spam'] } }));
 * ```
 */
export function not<Row = Record<string, unknown>>(filter: NoInfer<Filter<Row>>): Combined<Row> {
  return combined({ not: toCondition(filter as Filter<object>, 'not()') });
}
