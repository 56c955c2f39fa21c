import { PlinthError } from '@plinth/core';

/**
 * `.single()` got no row or more than one, or `.maybeSingle()` more than one. `details.rows` is
 * how many came back (for `single()` on a select, at most 2: it asks for no more). For a change,
 * the change has been made; only the answer did not have the expected shape.
 *
 * @example
 * ```ts
 * try {
 *   await plinth.from('posts').select().where({ slug }).single();
 * } catch (error) {
 *   if (error instanceof RowCountError && error.details?.rows === 0) return notFound();
 *   throw error;
 * }
 * ```
 */
export class RowCountError extends PlinthError {
  override name = 'RowCountError';
}

/**
 * A row did not pass the schema given to `from(table, schema)`. `details.row` is the row's index,
 * `details.field` the first failing path.
 *
 * @example
 * ```ts
 * try {
 *   await plinth.from('posts', Post).select();
 * } catch (error) {
 *   if (error instanceof RowValidationError) log.warn('schema drift', error.details);
 * }
 * ```
 */
export class RowValidationError extends PlinthError {
  override name = 'RowValidationError';
}
