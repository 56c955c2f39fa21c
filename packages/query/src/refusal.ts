import { ValidationError } from '@plinth/core';

/**
 * The error for a data call refused before any request: what is wrong and how to fix it, named
 * after the call as written. `invalid_request` unless a more precise code applies.
 *
 * @example
 * ```ts
 * throw refusal("from(\"posts\").delete()", 'delete without .where() would change every row', 'unscoped_change');
 * ```
 */
export const refusal = (caller: string, what: string, code = 'invalid_request', field?: string): ValidationError =>
  new ValidationError(`${caller}: ${what}. No request was made.`, { code, details: field ? { field } : undefined });
