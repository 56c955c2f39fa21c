import { ValidationError } from '@plinth/core';
import { type Condition, type FilterOperator, filterOperators } from '@plinth/protocol';

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

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

const refuse = (caller: string, what: string, field?: string) =>
  new ValidationError(`${caller}: ${what}. No request was made.`, {
    code: 'invalid_request',
    details: field === undefined ? undefined : { field },
  });

function leaves(column: string, value: unknown, caller: string): Condition[] {
  if (value === undefined) {
    // A filter that silently disappeared would widen the query to every row.
    throw refuse(caller, `the value for "${column}" is undefined; compare with null, or leave the column out`, column);
  }
  if (value === null) return [{ column, op: 'isNull', value: true }];
  if (!isPlainObject(value)) return [{ column, op: 'eq', value }];
  const entries = Object.entries(value);
  if (entries.length === 0) throw refuse(caller, `the operators for "${column}" are empty`, column);
  return entries.map(([op, operand]) => {
    if (!operatorNames.has(op)) {
      throw refuse(
        caller,
        `"${op}" is not an operator (for "${column}"); use one of ${filterOperators.join(', ')}, or { eq: {...} } to compare a jsonb column with an object`,
        column,
      );
    }
    if (operand === undefined) throw refuse(caller, `the value of ${column}.${op} is undefined`, column);
    if ((op === 'in' || op === 'notIn') && !Array.isArray(operand)) {
      throw refuse(caller, `${column}.${op} takes an array`, column);
    }
    if (op === 'isNull' && typeof operand !== 'boolean')
      throw refuse(caller, `${column}.isNull takes a boolean`, column);
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
  if (!isPlainObject(filter)) throw refuse(caller, 'where() takes an object of columns, or and()/or()/not()');
  const all = Object.entries(filter).flatMap(([column, value]) => leaves(column, value, caller));
  if (all.length === 0) throw refuse(caller, 'the filter is empty; to change every row, say .all()');
  return all.length === 1 ? (all[0] as Condition) : { and: all };
}

const combined = <Row>(condition: Condition): Combined<Row> => ({ [conditionKey]: condition }) as Combined<Row>;

function combine<Row>(kind: 'and' | 'or', filters: readonly Filter<Row>[]): Combined<Row> {
  if (filters.length === 0) throw refuse(`${kind}()`, `${kind}() needs at least one filter`);
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
