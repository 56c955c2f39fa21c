import type { CallOptions, Transport } from '@plinth/core';
import { queryRoute } from '@plinth/protocol';
import { type ActAs, type ActAsOptions, actAsValue } from './act-as.js';
import { type BatchResults, batchRunner } from './batch.js';
import type { BatchStep } from './batch-step.js';
import type { DataContext } from './data-context.js';
import { type TableQuery, tableQuery } from './query-builder.js';
import type { RowSchema, SchemaOutput } from './row-schema.js';
import { type SqlQuery, type SqlTag, sqlTag } from './sql-tag.js';
import type { AnyDatabase, InsertOf, RelationName, RelationOf, RowOf, UpdateOf } from './types.js';

type Loose<T> = [T] extends [never] ? Record<string, unknown> : T;

/** The data calls of a client: `from`, `sql`, `batch`. Each needs the service key. */
export interface DataClient<DB = AnyDatabase> {
  /**
   * A table or view: `'posts'` (schema `public`) or `'app.posts'`. With a schema (zod, valibot,
   * any Standard Schema), rows are checked at run time and typed by it.
   */
  from<N extends RelationName<DB>>(
    name: N,
  ): TableQuery<RowOf<RelationOf<DB, N>>, InsertOf<RelationOf<DB, N>>, UpdateOf<RelationOf<DB, N>>>;
  from<N extends RelationName<DB>, S extends RowSchema>(
    name: N,
    schema: S,
  ): TableQuery<SchemaOutput<S>, Loose<InsertOf<RelationOf<DB, N>>>, Loose<UpdateOf<RelationOf<DB, N>>>>;
  /** A statement with its values as parameters: await it, or pass it to `batch()`. */
  readonly sql: SqlTag<SqlQuery>;
  /** Queries and statements in one request and one transaction, all or nothing. */
  batch<const T extends readonly BatchStep<unknown>[]>(steps: T, options?: CallOptions): Promise<BatchResults<T>>;
}

/** {@link DataClient}, plus `as()` to act as a user. */
export interface QueryClient<DB = AnyDatabase> extends DataClient<DB> {
  /**
   * The same data calls, run as a user (or `'anon'`) under row-level security: each sends the
   * user's access token in `x-plinth-act-as`, besides the service key.
   */
  as(who: ActAs): DataClient<DB>;
}

function dataClient<DB>(context: DataContext): DataClient<DB> {
  return {
    from: ((name: string, schema?: RowSchema) => tableQuery(context, name, schema)) as DataClient<DB>['from'],
    sql: sqlTag(context),
    batch: batchRunner(context) as DataClient<DB>['batch'],
  };
}

/**
 * The data client over a transport: `from`, `sql`, `batch` and `as`. `@plinth/client` builds one
 * for `createClient(...)`; use it directly with `@plinth/core`'s transport.
 *
 * @example
 * ```ts
 * import { createTransport } from '@plinth/core';
 * import { createQueryClient } from '@plinth/query';
 * import type { Database } from './database.types';
 *
 * const transport = createTransport({ url, serviceKey: process.env.PLINTH_SERVICE_KEY });
 * const db = createQueryClient<Database>(transport);
 * const posts = await db.from('posts').select('id, title').where({ status: 'live' }).limit(20);
 * ```
 *
 * `options.secureCookies` is the server's: leave it out (true) unless the server runs with
 * `secureCookies: false`, and `as({ headers })` reads only the cookie the server sets.
 */
export function createQueryClient<DB = AnyDatabase>(transport: Transport, options: ActAsOptions = {}): QueryClient<DB> {
  return {
    ...dataClient<DB>({ transport, actAs: undefined }),
    as(who: ActAs) {
      transport.assertCallable(queryRoute, 'as()');
      return dataClient<DB>({ transport, actAs: actAsValue(who, options) });
    },
  };
}
