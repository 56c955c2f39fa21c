import type { ResultField } from '../database/database.js';

const int8Oid = 20;

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(jsonValue);
  return value;
}

/**
 * Rows as JSON can carry them, the same from PGlite and postgres.js: int8 as a number when it is
 * a safe integer, else as a string (PGlite gives a BigInt, postgres.js a string); bytea as
 * `\x…` hex text; everything else as the driver parsed it (numeric as a string, so no precision
 * is lost; timestamps as ISO strings once serialised).
 *
 * @example
 * ```ts
 * jsonRows([{ n: 5n }], [{ name: 'n', typeOid: 20 }]); // [{ n: 5 }]
 * ```
 */
export function jsonRows(
  rows: readonly Record<string, unknown>[],
  fields: readonly ResultField[],
  drop: ReadonlySet<string> = new Set(),
): Record<string, unknown>[] {
  const int8Columns = new Set(fields.filter((field) => field.typeOid === int8Oid).map((field) => field.name));
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) {
      if (drop.has(name)) continue;
      if (int8Columns.has(name) && typeof value === 'string' && /^-?\d+$/.test(value)) {
        out[name] = Number.isSafeInteger(Number(value)) ? Number(value) : value;
      } else {
        out[name] = jsonValue(value);
      }
    }
    return out;
  });
}
