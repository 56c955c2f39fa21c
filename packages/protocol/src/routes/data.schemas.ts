import * as z from 'zod/mini';
import { type FilterOperator, filterOperators } from './data.js';

// The data wire contract: a query AST the server compiles into one parameterised statement.
// Identifiers here are only shaped (length, no NUL); the server checks every one of them against
// the introspected schema and quotes it. Values are only ever bound parameters.

/** A table, column or schema name as sent: the server checks it against the introspected schema. */
const identifier = z.string().check(z.minLength(1), z.maxLength(63));

// The operators live with the route metadata (no zod), so browser-safe code can read them.
export { type FilterOperator, filterOperators } from './data.js';

/** A JSON value as a bound parameter: scalars, arrays and objects (jsonb). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A `where` tree. A leaf compares one column with a value; `and`, `or` and `not` nest. Leaves
 * name the column explicitly so a column called `and` cannot be mistaken for a combinator.
 */
export type Condition =
  | { column: string; op: FilterOperator; value?: unknown }
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition };

const leaf = z.object({ column: identifier, op: z.enum(filterOperators), value: z.optional(z.unknown()) });

/** The schema of {@link Condition}: recursive, at most 64 branches per combinator. */
export const conditionSchema: z.ZodMiniType<Condition> = z.union([
  leaf,
  z.object({
    get and() {
      return z.array(conditionSchema).check(z.minLength(1), z.maxLength(64));
    },
  }),
  z.object({
    get or() {
      return z.array(conditionSchema).check(z.minLength(1), z.maxLength(64));
    },
  }),
  z.object({
    get not() {
      return conditionSchema;
    },
  }),
]) as unknown as z.ZodMiniType<Condition>;

/** One ordering key. */
export const orderSchema = z.object({
  column: identifier,
  direction: z.optional(z.enum(['asc', 'desc'])),
  nulls: z.optional(z.enum(['first', 'last'])),
});

const row = z.record(z.string(), z.unknown());

/**
 * `POST /v1/query`: one operation on one table.
 * - `select`: `columns` (default every column), `where`, `order`, `limit` (server cap, default
 *   1000), `offset` or the keyset cursor `after` (from a previous answer's `nextCursor`), `count`.
 * - `insert`: `values` is one row or an array of rows.
 * - `upsert`: as insert, plus `onConflict` columns and `ignoreDuplicates`.
 * - `update`: `values` is the one object of columns to set; `where`, or `all: true`.
 * - `delete`: `where`, or `all: true`.
 * - `returning`: columns to give back from a change (`['*']` for all); none by default.
 */
export const queryRequestSchema = z.object({
  /** Exposed schema the table lives in; `public` by default. */
  schema: z.optional(identifier),
  table: identifier,
  op: z.enum(['select', 'insert', 'update', 'upsert', 'delete']),
  columns: z.optional(z.array(identifier).check(z.minLength(1), z.maxLength(256))),
  where: z.optional(conditionSchema),
  order: z.optional(z.array(orderSchema).check(z.maxLength(16))),
  limit: z.optional(z.number().check(z.int(), z.minimum(0))),
  offset: z.optional(z.number().check(z.int(), z.minimum(0))),
  after: z.optional(z.string().check(z.maxLength(4096))),
  count: z.optional(z.enum(['exact', 'estimated'])),
  values: z.optional(z.union([row, z.array(row).check(z.minLength(1), z.maxLength(10_000))])),
  returning: z.optional(z.array(identifier).check(z.minLength(1), z.maxLength(256))),
  onConflict: z.optional(z.array(identifier).check(z.minLength(1), z.maxLength(32))),
  ignoreDuplicates: z.optional(z.boolean()),
  /** Allows an `update` or `delete` without `where`: every row. */
  all: z.optional(z.boolean()),
});

/** A query as sent on the wire. */
export type QueryRequest = z.output<typeof queryRequestSchema>;

/** What a query answers. */
export const queryResponseSchema = z.object({
  /** Selected rows, or the `returning` rows of a change (empty without `returning`). */
  rows: z.array(row),
  /** Rows a change touched. */
  rowCount: z.number(),
  /** With `count`: the exact or estimated number of rows matching `where`, ignoring paging. */
  count: z.optional(z.number()),
  /** For a select with `limit`: the cursor of the next page, `null` on the last one. */
  nextCursor: z.optional(z.nullable(z.string())),
});

/** A query's answer. */
export type QueryResponse = z.output<typeof queryResponseSchema>;

/** `POST /v1/sql`: one statement, its values only as `$1…$n` parameters. */
export const sqlRequestSchema = z.object({
  text: z.string().check(z.minLength(1), z.maxLength(100_000)),
  params: z.optional(z.array(z.unknown()).check(z.maxLength(10_000))),
});

/** A statement as sent on the wire (what the `sql` tag builds). */
export type SqlRequest = z.output<typeof sqlRequestSchema>;

/** A result column: its name and its Postgres type name (`int4`, `text`, `jsonb`, …). */
export const resultColumnSchema = z.object({ name: z.string(), type: z.string() });

export const sqlResponseSchema = z.object({
  rows: z.array(row),
  columns: z.array(resultColumnSchema),
  rowCount: z.number(),
  /** The statement's command tag: `SELECT`, `INSERT`, … */
  command: z.string(),
});

/** A statement's answer. */
export type SqlResponse = z.output<typeof sqlResponseSchema>;

/** One step of a batch. */
export const batchStepSchema = z.union([
  z.object({ kind: z.literal('query'), query: queryRequestSchema }),
  z.object({ kind: z.literal('sql'), sql: sqlRequestSchema }),
]);

/** `POST /v1/batch`: steps run in order in one transaction, all or nothing. */
export const batchRequestSchema = z.object({ steps: z.array(batchStepSchema).check(z.minLength(1), z.maxLength(100)) });

export const batchResponseSchema = z.object({
  results: z.array(z.union([queryResponseSchema, sqlResponseSchema])),
});

/** A column of an exposed table, as `GET /v1/schema` describes it. */
export const schemaColumnSchema = z.object({
  name: z.string(),
  /** Postgres type name (`int4`, `text`, `uuid`, `_text` for `text[]`, …). */
  type: z.string(),
  /** True for arrays; `type` then names the element type without the leading underscore. */
  isArray: z.boolean(),
  nullable: z.boolean(),
  /** True when the column has a default or is generated/identity: optional on insert. */
  hasDefault: z.boolean(),
  /** The default expression, as Postgres prints it. */
  default: z.nullable(z.string()),
  /** Allowed values when the column's type is an enum. */
  enumValues: z.optional(z.array(z.string())),
});

export const schemaTableSchema = z.object({
  schema: z.string(),
  name: z.string(),
  kind: z.enum(['table', 'view']),
  columns: z.array(schemaColumnSchema),
  primaryKey: z.array(z.string()),
  foreignKeys: z.array(
    z.object({
      name: z.string(),
      columns: z.array(z.string()),
      references: z.object({ schema: z.string(), table: z.string(), columns: z.array(z.string()) }),
    }),
  ),
});

/** `GET /v1/schema`: the exposed tables, the input of `plinth gen types`. */
export const schemaResponseSchema = z.object({ tables: z.array(schemaTableSchema) });

/** The exposed schema as `GET /v1/schema` answers it. */
export type DatabaseSchema = z.output<typeof schemaResponseSchema>;

export const querySchemas = { request: queryRequestSchema, response: queryResponseSchema };
export const sqlSchemas = { request: sqlRequestSchema, response: sqlResponseSchema };
export const batchSchemas = { request: batchRequestSchema, response: batchResponseSchema };
export const schemaSchemas = { request: z.object({}), response: schemaResponseSchema };
