import { HttpError } from '../http/http-error.js';
import type { ColumnInfo } from './schema-introspection.js';

// Values travel to PostgreSQL as text parameters cast to the column's type (`$1::text::int4`),
// the same way on PGlite and postgres.js, whose own serialisers differ (postgres.js turns the
// string 'true' into false for a boolean parameter, and stringifies jsonb twice). Checking the
// common types here first means a bad value is a 400 naming its field, before any statement.

const integerRanges: Record<string, [bigint, bigint]> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-9223372036854775808n, 9223372036854775807n],
};

const numericText = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(NaN|Infinity)$/;
const uuidText = /^\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?$/;

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
};

const typeLabel = (column: ColumnInfo) => `${column.type}${column.isArray ? '[]' : ''}`;

function refuse(field: string, column: ColumnInfo, expected: string, value: unknown): never {
  throw new HttpError(
    'validation_failed',
    `${field}: column "${column.name}" is ${typeLabel(column)} and takes ${expected}; got ${describe(value)}.`,
    { field, column: column.name, type: typeLabel(column) },
  );
}

function scalarText(value: unknown, column: ColumnInfo, field: string): string {
  const type = column.type;
  if (type === 'json' || type === 'jsonb') return JSON.stringify(value);
  if (column.enumValues) {
    if (typeof value !== 'string' || !column.enumValues.includes(value)) {
      refuse(field, column, `one of ${column.enumValues.map((v) => JSON.stringify(v)).join(', ')}`, value);
    }
    return value;
  }
  const range = integerRanges[type];
  if (range) {
    const ok =
      (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^[+-]?\d+$/.test(value));
    if (!ok) refuse(field, column, 'a whole number', value);
    const big = BigInt(value as number | string);
    if (big < range[0] || big > range[1])
      refuse(field, column, `a whole number from ${range[0]} to ${range[1]}`, value);
    return big.toString();
  }
  if (column.category === 'N') {
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'string' && numericText.test(value.trim())) return value.trim();
    refuse(field, column, 'a number', value);
  }
  if (column.category === 'B') {
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    refuse(field, column, 'true or false', value);
  }
  if (type === 'uuid') {
    if (typeof value === 'string' && uuidText.test(value)) return value;
    refuse(field, column, 'a UUID', value);
  }
  if (type === 'bytea') {
    if (typeof value === 'string') return value;
    refuse(field, column, "a string ('\\x…' hex)", value);
  }
  if (typeof value === 'string') return value;
  // Text-like and other types read their text form; numbers and booleans have an obvious one.
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  return refuse(field, column, 'a string', value);
}

function arrayLiteral(value: unknown[], column: ColumnInfo, field: string): string {
  const items = value.map((item, index) => {
    if (item === null) return 'NULL';
    if (Array.isArray(item)) return arrayLiteral(item, column, `${field}[${index}]`);
    const text = scalarText(item, column, `${field}[${index}]`);
    return `"${text.replace(/[\\"]/g, '\\$&')}"`;
  });
  return `{${items.join(',')}}`;
}

/**
 * The text form of `value` for `column`, to be bound as a parameter and cast to the column's
 * type; `null` for SQL NULL. A value the column cannot take is a 400 naming `field`.
 *
 * @example
 * ```ts
 * columnValueText(5, scoreColumn, 'values.score');        // '5'
 * columnValueText(['a', 'b'], tagsColumn, 'values.tags'); // '{"a","b"}'
 * ```
 */
export function columnValueText(value: unknown, column: ColumnInfo, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (column.isArray) {
    if (!Array.isArray(value)) refuse(field, column, 'an array', value);
    return arrayLiteral(value, column, field);
  }
  return scalarText(value, column, field);
}

/**
 * The text form of one element of an array column (for `in`, or comparing one element).
 *
 * @example
 * ```ts
 * elementValueText('a', tagsColumn, 'where.value[0]'); // 'a'
 * ```
 */
export function elementValueText(value: unknown, column: ColumnInfo, field: string): string | null {
  if (value === null || value === undefined) return null;
  return scalarText(value, column, field);
}

/**
 * A Postgres array literal of `values`, each checked against `column`'s element type: the
 * parameter of `in` and `notIn`.
 *
 * @example
 * ```ts
 * listLiteral([1, 2], idColumn, 'where.value'); // '{"1","2"}'
 * ```
 */
export function listLiteral(values: readonly unknown[], column: ColumnInfo, field: string): string {
  const items = values.map((item, index) => {
    if (item === null) return 'NULL';
    const text = scalarText(item, column, `${field}[${index}]`);
    return `"${text.replace(/[\\"]/g, '\\$&')}"`;
  });
  return `{${items.join(',')}}`;
}
