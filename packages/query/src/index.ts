/**
 * Plinth data, for your server: a typed, immutable query builder (`from`), the `sql` tag,
 * batches in one transaction, and `as(user)` to run under row-level security as a user. Every
 * call needs the service key and throws `MissingServiceKeyError` synchronously without one.
 *
 * @packageDocumentation
 */

export { type ActAs, type ActAsOptions, actAsValue, type IncomingHeaders } from './act-as.js';
export { type BatchResults, batchRunner } from './batch.js';
export type { BatchResult, BatchStep } from './batch-step.js';
export { createQueryClient, type DataClient, type QueryClient } from './data-client.js';
export type {
  ChangeQuery,
  ChangeResult,
  InsertQuery,
  OrderDirection,
  OrderOptions,
  Page,
  PageOptions,
  Query,
  ReturningChangeQuery,
  ReturningQuery,
  SelectQuery,
  TableQuery,
  UpsertOptions,
} from './query-builder.js';
export { RowCountError, RowValidationError } from './query-errors.js';
export type { RowSchema, SchemaOutput } from './row-schema.js';
export { type SqlFragment, type SqlQuery, type SqlResult, type SqlTag, sql } from './sql-tag.js';
export type {
  AnyDatabase,
  CheckColumns,
  ColumnList,
  ColumnName,
  ColumnsIn,
  GenericSchema,
  GenericTable,
  GenericView,
  InsertOf,
  Picked,
  RelationName,
  RelationOf,
  RowOf,
  Simplify,
  TableName,
  UpdateOf,
} from './types.js';
export { and, type Combined, type Filter, not, type Operators, or, type WhereObject } from './where.js';
