import type { Condition, QueryRequest } from '@plinth/protocol';
import { HttpError } from '../http/http-error.js';
import { columnValueText, listLiteral } from './column-values.js';
import type { CursorCodec, KeysetKey } from './keyset-cursor.js';
import type { ColumnInfo, TableInfo } from './schema-introspection.js';

/** One parameterised statement: text with `$n` placeholders, and the values as text. */
export interface CompiledStatement {
  readonly text: string;
  readonly params: readonly (string | null)[];
  /** The request field each parameter came from, to name it when PostgreSQL refuses the value. */
  readonly paramFields: readonly string[];
}

/** What a select needs to cut its page and make the next cursor. */
export interface PagePlan {
  /** Rows to answer; the statement fetches one more to learn whether there is a next page. */
  readonly limit: number;
  /** The keyset keys (order, then primary key), empty when the table has neither. */
  readonly keys: readonly KeysetKey[];
  /** Result columns holding each key's text form; dropped from the rows answered. */
  readonly keyAliases: readonly string[];
  /** What the cursor is bound to besides the keys: the table. */
  readonly scope: string;
}

/** A query compiled: the statement, and for a select its count and page plan. */
export interface CompiledQuery {
  readonly op: QueryRequest['op'];
  readonly statement: CompiledStatement;
  readonly count?: { readonly mode: 'exact' | 'estimated'; readonly statement: CompiledStatement };
  readonly page?: PagePlan;
}

/** Settings of the compiler. */
export interface CompileOptions {
  /** The most rows a select answers, whatever `limit` says. */
  readonly maxRows: number;
  readonly cursors: CursorCodec;
}

/** Prefix of the internal key columns; a real column may not start with it. */
export const keyAliasPrefix = '__plinth_k';

const maxConditionDepth = 32;

/**
 * Quotes an identifier for PostgreSQL. Only ever applied to names already found in the
 * introspected schema; quoting is the second line of defence, not the first.
 *
 * @example
 * ```ts
 * quoteIdentifier('order'); // '"order"'
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

class Parameters {
  readonly values: (string | null)[] = [];
  readonly fields: string[] = [];

  /** Binds `value` and answers its placeholder, cast from text to `type`. */
  add(value: string | null, field: string, type: string): string {
    this.values.push(value);
    this.fields.push(field);
    return `$${this.values.length}::text::${type}`;
  }

  statement(text: string): CompiledStatement {
    return { text, params: this.values, paramFields: this.fields };
  }
}

const refuse = (field: string, message: string, details: Record<string, unknown> = {}): never => {
  throw new HttpError('validation_failed', `${field}: ${message}`, { field, ...details });
};

function columnOf(table: TableInfo, name: string, field: string): ColumnInfo {
  const column = table.column.get(name);
  if (!column) {
    const known = table.columns.map((c) => c.name);
    refuse(
      field,
      `${table.schema}.${table.name} has no column "${name}"; its columns are ${known.join(', ') || '(none)'}.`,
      { name },
    );
  }
  return column as ColumnInfo;
}

const isTextual = (column: ColumnInfo) => column.category === 'S' && !column.isArray;
const isJson = (column: ColumnInfo) => !column.isArray && (column.type === 'json' || column.type === 'jsonb');

function compileLeaf(
  table: TableInfo,
  leaf: Extract<Condition, { column: string }>,
  path: string,
  params: Parameters,
): string {
  const column = columnOf(table, leaf.column, `${path}.column`);
  const name = quoteIdentifier(column.name);
  const field = `${path}.value`;
  const { op, value } = leaf;
  const single = () => {
    if (value === null || value === undefined) {
      refuse(field, `${op} needs a value; to match NULL use { column, op: 'isNull', value: true }.`);
    }
    return params.add(columnValueText(value, column, field), field, column.castType);
  };
  switch (op) {
    case 'eq':
      return `${name} = ${single()}`;
    case 'neq':
      return `${name} <> ${single()}`;
    case 'gt':
      return `${name} > ${single()}`;
    case 'gte':
      return `${name} >= ${single()}`;
    case 'lt':
      return `${name} < ${single()}`;
    case 'lte':
      return `${name} <= ${single()}`;
    case 'in':
    case 'notIn': {
      if (column.isArray)
        refuse(field, `${op} compares single values; on the array column "${column.name}" use contains.`);
      if (!Array.isArray(value)) refuse(field, `${op} takes an array of values.`);
      const list = params.add(listLiteral(value as unknown[], column, field), field, `${column.castType}[]`);
      return op === 'in' ? `${name} = ANY(${list})` : `${name} <> ALL(${list})`;
    }
    case 'like':
    case 'ilike': {
      if (!isTextual(column)) refuse(field, `${op} works on text columns; "${column.name}" is ${column.type}.`);
      if (typeof value !== 'string') refuse(field, `${op} takes a pattern string (% and _ are wildcards).`);
      return `${name} ${op === 'like' ? 'LIKE' : 'ILIKE'} ${params.add(value as string, field, 'pg_catalog.text')}`;
    }
    case 'isNull': {
      const wanted = value ?? true;
      if (typeof wanted !== 'boolean') refuse(field, 'isNull takes true (IS NULL) or false (IS NOT NULL).');
      return `${name} ${wanted ? 'IS NULL' : 'IS NOT NULL'}`;
    }
    case 'contains':
    case 'containedBy': {
      const operator = op === 'contains' ? '@>' : '<@';
      if (column.isArray) return `${name} ${operator} ${single()}`;
      if (isJson(column)) {
        // json has no containment operator; compare as jsonb.
        const bound = params.add(columnValueText(value, column, field), field, 'pg_catalog.jsonb');
        return `${name}::jsonb ${operator} ${bound}`;
      }
      return refuse(field, `${op} works on array and json/jsonb columns; "${column.name}" is ${column.type}.`);
    }
    default:
      return refuse(`${path}.op`, `unknown operator ${JSON.stringify(op)}.`);
  }
}

function compileCondition(table: TableInfo, condition: Condition, path: string, params: Parameters, depth = 0): string {
  if (depth > maxConditionDepth) refuse(path, `conditions nest at most ${maxConditionDepth} deep.`);
  if ('column' in condition) return compileLeaf(table, condition, path, params);
  if ('and' in condition) {
    const parts = condition.and.map((c, i) => compileCondition(table, c, `${path}.and[${i}]`, params, depth + 1));
    return `(${parts.join(' AND ')})`;
  }
  if ('or' in condition) {
    const parts = condition.or.map((c, i) => compileCondition(table, c, `${path}.or[${i}]`, params, depth + 1));
    return `(${parts.join(' OR ')})`;
  }
  return `NOT (${compileCondition(table, condition.not, `${path}.not`, params, depth + 1)})`;
}

function columnList(table: TableInfo, names: readonly string[] | undefined, field: string): string {
  if (names === undefined || (names.length === 1 && names[0] === '*')) return '*';
  return names.map((name, i) => quoteIdentifier(columnOf(table, name, `${field}[${i}]`).name)).join(', ');
}

function refuseFields(query: QueryRequest, fields: (keyof QueryRequest)[], why: string): void {
  for (const field of fields) if (query[field] !== undefined) refuse(field, why);
}

/** The condition a keyset cursor adds: rows strictly after the cursor's row in this ordering. */
function keysetCondition(
  table: TableInfo,
  keys: readonly KeysetKey[],
  values: readonly (string | null)[],
  params: Parameters,
): string {
  const alternatives: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) {
      const key = keys[j] as KeysetKey;
      const column = table.column.get(key.column) as ColumnInfo;
      const value = values[j] ?? null;
      parts.push(
        value === null
          ? `${quoteIdentifier(key.column)} IS NULL`
          : `${quoteIdentifier(key.column)} = ${params.add(value, 'after', column.castType)}`,
      );
    }
    const key = keys[i] as KeysetKey;
    const column = table.column.get(key.column) as ColumnInfo;
    const name = quoteIdentifier(key.column);
    const value = values[i] ?? null;
    let after: string;
    if (value === null) {
      // NULLs last: nothing comes after a NULL. NULLs first: every non-NULL does.
      after = key.nulls === 'last' ? 'false' : `${name} IS NOT NULL`;
    } else {
      const comparison = `${name} ${key.direction === 'asc' ? '>' : '<'} ${params.add(value, 'after', column.castType)}`;
      after = key.nulls === 'last' ? `(${comparison} OR ${name} IS NULL)` : comparison;
    }
    alternatives.push(parts.length > 0 ? `(${parts.join(' AND ')} AND ${after})` : after);
  }
  return `(${alternatives.join(' OR ')})`;
}

function compileSelect(query: QueryRequest, table: TableInfo, target: string, options: CompileOptions): CompiledQuery {
  refuseFields(
    query,
    ['values', 'returning', 'onConflict', 'ignoreDuplicates', 'all'],
    'only changes (insert, update, upsert, delete) take this; remove it from the select.',
  );
  const params = new Parameters();
  const countParams = new Parameters();
  const where = query.where ? compileCondition(table, query.where, 'where', params) : undefined;
  const countWhere = query.where ? compileCondition(table, query.where, 'where', countParams) : undefined;

  const order: KeysetKey[] = (query.order ?? []).map((item, i) => {
    const column = columnOf(table, item.column, `order[${i}].column`);
    const direction = item.direction ?? 'asc';
    // PostgreSQL's own defaults, spelled out so the keyset condition matches the sort exactly.
    return { column: column.name, direction, nulls: item.nulls ?? (direction === 'asc' ? 'last' : 'first') };
  });
  // The primary key breaks ties, so the order is total and a cursor names exactly one row.
  const keys = [...order];
  for (const column of table.primaryKey) {
    if (!keys.some((key) => key.column === column)) keys.push({ column, direction: 'asc', nulls: 'last' });
  }
  const scope = `${table.schema}.${table.name}`;
  const conditions = where ? [where] : [];
  if (query.after !== undefined) {
    if (keys.length === 0) {
      refuse(
        'after',
        `${scope} has no primary key and the query no order, so it cannot be paged by cursor; add an order.`,
      );
    }
    conditions.push(keysetCondition(table, keys, options.cursors.decode(scope, keys, query.after), params));
  }
  const limit = Math.min(query.limit ?? options.maxRows, options.maxRows);
  const keyAliases = keys.map((_, i) => `${keyAliasPrefix}${i}`);
  const selected = [
    columnList(table, query.columns, 'columns'),
    ...keys.map((key, i) => `${quoteIdentifier(key.column)}::text AS ${quoteIdentifier(keyAliases[i] as string)}`),
  ].join(', ');
  let text = `SELECT ${selected} FROM ${target}`;
  if (conditions.length > 0) text += ` WHERE ${conditions.join(' AND ')}`;
  if (keys.length > 0) {
    text += ` ORDER BY ${keys
      .map((key) => `${quoteIdentifier(key.column)} ${key.direction.toUpperCase()} NULLS ${key.nulls.toUpperCase()}`)
      .join(', ')}`;
  }
  // One row more than asked tells whether a next page exists.
  text += ` LIMIT ${params.add(String(limit === 0 ? 0 : limit + 1), 'limit', 'pg_catalog.int8')}`;
  if (query.offset !== undefined && query.offset > 0) {
    text += ` OFFSET ${params.add(String(query.offset), 'offset', 'pg_catalog.int8')}`;
  }

  const compiled: CompiledQuery = {
    op: 'select',
    statement: params.statement(text),
    page: { limit, keys, keyAliases, scope },
  };
  if (query.count === undefined) return compiled;
  const filtered = countWhere ? ` WHERE ${countWhere}` : '';
  // Estimated: the planner's row estimate for the filtered scan (statistics from ANALYZE,
  // row-level security included), without reading the rows; exact: count(*).
  const countText =
    query.count === 'exact'
      ? `SELECT count(*) AS count FROM ${target}${filtered}`
      : `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${target}${filtered}`;
  return { ...compiled, count: { mode: query.count, statement: countParams.statement(countText) } };
}

function returningClause(table: TableInfo, returning: readonly string[] | undefined): string {
  return returning ? ` RETURNING ${columnList(table, returning, 'returning')}` : '';
}

function compileInsert(query: QueryRequest, table: TableInfo, target: string): CompiledQuery {
  refuseFields(
    query,
    ['where', 'order', 'limit', 'offset', 'after', 'count', 'all', 'columns'],
    `${query.op} does not take this; remove it.`,
  );
  if (query.values === undefined) refuse('values', `${query.op} needs values: one row object or an array of them.`);
  const rows = Array.isArray(query.values) ? query.values : [query.values as Record<string, unknown>];
  const rowField = (i: number) => (Array.isArray(query.values) ? `values[${i}]` : 'values');
  // Every column any row names, in first-seen order; a row that lacks one gets its DEFAULT.
  const names: string[] = [];
  rows.forEach((row, i) => {
    for (const name of Object.keys(row)) {
      if (!names.includes(name)) names.push(columnOf(table, name, `${rowField(i)}.${name}`).name);
    }
  });
  if (query.op === 'insert' && query.onConflict !== undefined && !query.ignoreDuplicates) {
    refuse('onConflict', 'to update rows that already exist use op upsert; to skip them add ignoreDuplicates: true.');
  }
  const params = new Parameters();
  let text: string;
  if (names.length === 0) {
    if (rows.length > 1) refuse('values', 'rows with no columns: send one {} to insert a row of defaults.');
    text = `INSERT INTO ${target} DEFAULT VALUES`;
  } else {
    const tuples = rows.map((row, i) => {
      const cells = names.map((name) => {
        if (!Object.hasOwn(row, name)) return 'DEFAULT';
        const column = table.column.get(name) as ColumnInfo;
        const field = `${rowField(i)}.${name}`;
        return params.add(columnValueText(row[name], column, field), field, column.castType);
      });
      return `(${cells.join(', ')})`;
    });
    text = `INSERT INTO ${target} (${names.map(quoteIdentifier).join(', ')}) VALUES ${tuples.join(', ')}`;
  }
  const upsert = query.op === 'upsert';
  if (upsert || query.ignoreDuplicates) {
    const conflictNames = (query.onConflict ?? (upsert ? table.primaryKey : [])).map(
      (name, i) => columnOf(table, name, `onConflict[${i}]`).name,
    );
    if (upsert && conflictNames.length === 0) {
      refuse('onConflict', `${table.schema}.${table.name} has no primary key; name the unique columns to match on.`);
    }
    const targetColumns = conflictNames.length > 0 ? ` (${conflictNames.map(quoteIdentifier).join(', ')})` : '';
    const updates = names.filter((name) => !conflictNames.includes(name));
    if (query.ignoreDuplicates || updates.length === 0) {
      text += ` ON CONFLICT${targetColumns} DO NOTHING`;
    } else {
      const set = updates.map((name) => `${quoteIdentifier(name)} = EXCLUDED.${quoteIdentifier(name)}`).join(', ');
      text += ` ON CONFLICT${targetColumns} DO UPDATE SET ${set}`;
    }
  }
  text += returningClause(table, query.returning);
  return { op: query.op, statement: params.statement(text) };
}

function guardEveryRow(query: QueryRequest): void {
  if (query.where === undefined && query.all !== true) {
    refuse(
      'where',
      `${query.op} without where would change every row; add a where, or send all: true if every row is meant.`,
    );
  }
}

function compileUpdate(query: QueryRequest, table: TableInfo, target: string): CompiledQuery {
  refuseFields(
    query,
    ['order', 'limit', 'offset', 'after', 'count', 'onConflict', 'ignoreDuplicates', 'columns'],
    'update does not take this; remove it.',
  );
  const values = query.values;
  if (values === undefined || Array.isArray(values) || Object.keys(values).length === 0) {
    refuse('values', 'update needs values: one object of the columns to set.');
  }
  guardEveryRow(query);
  const params = new Parameters();
  const set = Object.entries(values as Record<string, unknown>).map(([name, value]) => {
    const field = `values.${name}`;
    const column = columnOf(table, name, field);
    return `${quoteIdentifier(column.name)} = ${params.add(columnValueText(value, column, field), field, column.castType)}`;
  });
  let text = `UPDATE ${target} SET ${set.join(', ')}`;
  if (query.where) text += ` WHERE ${compileCondition(table, query.where, 'where', params)}`;
  text += returningClause(table, query.returning);
  return { op: 'update', statement: params.statement(text) };
}

function compileDelete(query: QueryRequest, table: TableInfo, target: string): CompiledQuery {
  refuseFields(
    query,
    ['values', 'order', 'limit', 'offset', 'after', 'count', 'onConflict', 'ignoreDuplicates', 'columns'],
    'delete does not take this; remove it.',
  );
  guardEveryRow(query);
  const params = new Parameters();
  let text = `DELETE FROM ${target}`;
  if (query.where) text += ` WHERE ${compileCondition(table, query.where, 'where', params)}`;
  text += returningClause(table, query.returning);
  return { op: 'delete', statement: params.statement(text) };
}

/**
 * Compiles a query AST into one parameterised statement over `table` (already found in the
 * introspected schema). Every column is checked against the table and quoted; every value is a
 * bound parameter cast to its column's type. A select also gets its count statement and the plan
 * for its page and cursor.
 *
 * @example
 * ```ts
 * const compiled = compileQuery({ table: 'posts', op: 'select', where: { column: 'id', op: 'eq', value: 1 } }, posts, options);
 * compiled.statement.text; // SELECT * , "id"::text AS "__plinth_k0" FROM "public"."posts" WHERE "id" = $1::text::"pg_catalog"."int4" ORDER BY …
 * ```
 */
export function compileQuery(query: QueryRequest, table: TableInfo, options: CompileOptions): CompiledQuery {
  const target = `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
  switch (query.op) {
    case 'select':
      return compileSelect(query, table, target, options);
    case 'insert':
    case 'upsert':
      return compileInsert(query, table, target);
    case 'update':
      return compileUpdate(query, table, target);
    case 'delete':
      return compileDelete(query, table, target);
  }
}
