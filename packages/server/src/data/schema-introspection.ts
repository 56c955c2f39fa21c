import type { DatabaseSchema } from '@plinth/protocol';
import type { Queryable } from '../database/database.js';

/** A column as the data API knows it: the wire description plus what the compiler needs. */
export interface ColumnInfo {
  readonly name: string;
  /** The type's name; for arrays, the element type's (`int4` for `int4[]`). */
  readonly type: string;
  readonly isArray: boolean;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
  readonly default: string | null;
  readonly enumValues?: readonly string[];
  /** The column's type, schema-qualified and quoted, for casting a text parameter to it. */
  readonly castType: string;
  /** The element type (the column's own type when not an array), qualified and quoted. */
  readonly elementCastType: string;
  /** pg_type.typcategory of the element type: N numeric, S string, B boolean, D date/time, U user, E enum … */
  readonly category: string;
}

/** An exposed table or view. */
export interface TableInfo {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'table' | 'view';
  readonly columns: readonly ColumnInfo[];
  readonly column: ReadonlyMap<string, ColumnInfo>;
  readonly primaryKey: readonly string[];
  readonly foreignKeys: DatabaseSchema['tables'][number]['foreignKeys'];
  /** Columns of each CHECK, UNIQUE and foreign-key constraint by name, to name them in errors. */
  readonly constraintColumns: ReadonlyMap<string, readonly string[]>;
}

/** A snapshot of the exposed schemas. */
export interface IntrospectedSchema {
  readonly tables: readonly TableInfo[];
  find(schema: string, table: string): TableInfo | undefined;
}

/**
 * Schemas the data API never exposes, whatever the configuration says: Plinth's own (`plinth`,
 * `auth`) and PostgreSQL's catalogs.
 *
 * @example
 * ```ts
 * isHiddenSchema('plinth'); // true
 * isHiddenSchema('public'); // false
 * ```
 */
export function isHiddenSchema(name: string): boolean {
  return name === 'plinth' || name === 'auth' || name === 'information_schema' || name.startsWith('pg_');
}

interface ColumnRow {
  schema: string;
  table: string;
  kind: string;
  name: string | null;
  not_null: boolean | null;
  has_default: boolean | null;
  default: string | null;
  type: string | null;
  type_schema: string | null;
  element_type: string | null;
  element_schema: string | null;
  category: string | null;
  enum_values: string[] | null;
}

interface ConstraintRow {
  schema: string;
  table: string;
  name: string;
  kind: string;
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[] | null;
}

// One row per column (and one with NULL column fields for a table without columns). Arrays are
// recognised by typcategory 'A'; their element type gives the wire `type` and the category.
const columnsSql = `
SELECT n.nspname::text AS schema, c.relname::text AS table, c.relkind::text AS kind,
       a.attname::text AS name, a.attnotnull AS not_null,
       (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS has_default,
       pg_get_expr(d.adbin, d.adrelid) AS default,
       t.typname::text AS type, tn.nspname::text AS type_schema,
       et.typname::text AS element_type, etn.nspname::text AS element_schema,
       coalesce(et.typcategory, t.typcategory)::text AS category,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
         WHERE e.enumtypid = coalesce(et.oid, t.oid))::text[] AS enum_values
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace
  LEFT JOIN pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem
  LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
 WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
 ORDER BY n.nspname, c.relname, a.attnum`;

const constraintsSql = `
SELECT n.nspname::text AS schema, c.relname::text AS table, con.conname::text AS name, con.contype::text AS kind,
       array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
       fn.nspname::text AS ref_schema, fc.relname::text AS ref_table,
       CASE WHEN con.contype = 'f' THEN
         array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[]
       END AS ref_columns
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class fc ON fc.oid = con.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
 WHERE n.nspname = ANY($1::text[]) AND con.contype IN ('p', 'f', 'u', 'c')
 ORDER BY n.nspname, c.relname, con.conname`;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Reads the tables and views of `schemas` from the catalogs: columns, types, nullability,
 * defaults, enum values, primary and foreign keys. Hidden schemas are dropped from the list first.
 *
 * @example
 * ```ts
 * const schema = await introspectSchema(database, ['public']);
 * schema.find('public', 'posts')?.primaryKey; // ['id']
 * ```
 */
export async function introspectSchema(db: Queryable, schemas: readonly string[]): Promise<IntrospectedSchema> {
  const exposed = schemas.filter((name) => !isHiddenSchema(name));
  const [columnRows, constraintRows] = [
    await db.query<ColumnRow>(columnsSql, [exposed]),
    await db.query<ConstraintRow>(constraintsSql, [exposed]),
  ];
  const key = (schema: string, table: string) => `${schema}\u0000${table}`;
  const building = new Map<
    string,
    { schema: string; name: string; kind: 'table' | 'view'; columns: ColumnInfo[]; constraints: ConstraintRow[] }
  >();
  for (const row of columnRows) {
    const id = key(row.schema, row.table);
    let table = building.get(id);
    if (!table) {
      table = {
        schema: row.schema,
        name: row.table,
        kind: row.kind === 'v' || row.kind === 'm' ? 'view' : 'table',
        columns: [],
        constraints: [],
      };
      building.set(id, table);
    }
    if (row.name === null || row.type === null || row.type_schema === null) continue;
    const isArray = row.element_type !== null && row.element_schema !== null;
    const elementType = isArray ? (row.element_type as string) : row.type;
    const elementSchema = isArray ? (row.element_schema as string) : row.type_schema;
    table.columns.push({
      name: row.name,
      type: elementType,
      isArray,
      nullable: !row.not_null,
      hasDefault: row.has_default === true,
      default: row.default,
      ...(row.enum_values && row.enum_values.length > 0 ? { enumValues: row.enum_values } : {}),
      castType: `${quote(row.type_schema)}.${quote(row.type)}`,
      elementCastType: `${quote(elementSchema)}.${quote(elementType)}`,
      category: row.category ?? 'X',
    });
  }
  for (const row of constraintRows) building.get(key(row.schema, row.table))?.constraints.push(row);

  const tables: TableInfo[] = [...building.values()].map((table) => ({
    schema: table.schema,
    name: table.name,
    kind: table.kind,
    columns: table.columns,
    column: new Map(table.columns.map((column) => [column.name, column])),
    primaryKey: table.constraints.find((c) => c.kind === 'p')?.columns ?? [],
    foreignKeys: table.constraints
      .filter((c) => c.kind === 'f')
      .map((c) => ({
        name: c.name,
        columns: c.columns,
        references: { schema: c.ref_schema ?? '', table: c.ref_table ?? '', columns: c.ref_columns ?? [] },
      })),
    constraintColumns: new Map(table.constraints.map((c) => [c.name, c.columns])),
  }));
  const byKey = new Map(tables.map((table) => [key(table.schema, table.name), table]));
  return { tables, find: (schema, table) => byKey.get(key(schema, table)) };
}

/**
 * The wire description of a snapshot (`GET /v1/schema`): the internal fields dropped.
 *
 * @example
 * ```ts
 * const body = describeSchema(await cache.current()); // { tables: [{ schema: 'public', name: 'posts', … }] }
 * ```
 */
export function describeSchema(schema: IntrospectedSchema): DatabaseSchema {
  return {
    tables: schema.tables.map((table) => ({
      schema: table.schema,
      name: table.name,
      kind: table.kind,
      columns: table.columns.map((column) => ({
        name: column.name,
        type: column.type,
        isArray: column.isArray,
        nullable: column.nullable,
        hasDefault: column.hasDefault,
        default: column.default,
        ...(column.enumValues ? { enumValues: [...column.enumValues] } : {}),
      })),
      primaryKey: [...table.primaryKey],
      foreignKeys: table.foreignKeys,
    })),
  };
}

/** The cached snapshot of the exposed schemas, refreshed on demand. */
export interface SchemaCache {
  /** The snapshot, introspected on first use. */
  current(): Promise<IntrospectedSchema>;
  /** Reads the catalogs again (after the app changed its schema). */
  refresh(): Promise<IntrospectedSchema>;
  /**
   * The table, re-introspecting once when it is unknown (it may have been created since), at
   * most once a second so a stream of unknown names cannot keep the catalogs busy.
   */
  findTable(schema: string, table: string): Promise<TableInfo | undefined>;
}

/**
 * A {@link SchemaCache} over `db` for the exposed `schemas`.
 *
 * @example
 * ```ts
 * const cache = createSchemaCache(database, ['public']);
 * const posts = await cache.findTable('public', 'posts');
 * ```
 */
export function createSchemaCache(
  db: Queryable,
  schemas: readonly string[],
  options: { missRefreshIntervalMs?: number } = {},
): SchemaCache {
  const interval = options.missRefreshIntervalMs ?? 1000;
  let snapshot: Promise<IntrospectedSchema> | undefined;
  let takenAt = 0;
  const refresh = () => {
    const next = introspectSchema(db, schemas);
    takenAt = Date.now();
    snapshot = next;
    // A failed read must not stick: the next call tries again.
    next.catch(() => {
      if (snapshot === next) snapshot = undefined;
    });
    return next;
  };
  const current = () => snapshot ?? refresh();
  return {
    current,
    refresh,
    async findTable(schema, table) {
      const found = (await current()).find(schema, table);
      if (found || Date.now() - takenAt < interval) return found;
      return (await refresh()).find(schema, table);
    },
  };
}
