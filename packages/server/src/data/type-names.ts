import type { Queryable } from '../database/database.js';

/** Postgres type names by oid, read from pg_type once per oid and remembered. */
export interface TypeNames {
  /**
   * The names of `oids` (`int4`, `text`, `_text` for `text[]`, …); unknown oids as their number.
   * Read through `via` when given: inside a transaction that holds PGlite's one session.
   */
  namesOf(oids: readonly number[], via?: Queryable): Promise<Map<number, string>>;
}

// The built-in types most results use, so most statements need no catalog read.
const builtIn: [number, string][] = [
  [16, 'bool'],
  [17, 'bytea'],
  [18, 'char'],
  [19, 'name'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [26, 'oid'],
  [114, 'json'],
  [700, 'float4'],
  [701, 'float8'],
  [1000, '_bool'],
  [1005, '_int2'],
  [1007, '_int4'],
  [1009, '_text'],
  [1016, '_int8'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1186, 'interval'],
  [1700, 'numeric'],
  [2950, 'uuid'],
  [2951, '_uuid'],
  [3802, 'jsonb'],
  [3807, '_jsonb'],
];

/**
 * A {@link TypeNames} reading pg_type through `db` (as the server's role: the catalog is readable
 * by every role).
 *
 * @example
 * ```ts
 * const names = await createTypeNames(database).namesOf([23, 25]); // Map { 23 => 'int4', 25 => 'text' }
 * ```
 */
export function createTypeNames(db: Queryable): TypeNames {
  const known = new Map<number, string>(builtIn);
  return {
    async namesOf(oids, via = db) {
      const missing = [...new Set(oids)].filter((oid) => !known.has(oid));
      if (missing.length > 0) {
        const rows = await via.query<{ oid: number | string; name: string }>(
          'SELECT oid::int4 AS oid, typname::text AS name FROM pg_type WHERE oid = ANY($1::text::oid[])',
          [`{${missing.join(',')}}`],
        );
        for (const row of rows) known.set(Number(row.oid), row.name);
      }
      return new Map(oids.map((oid) => [oid, known.get(oid) ?? String(oid)]));
    },
  };
}
