import type { Context } from 'hono';

// Middleware that adds headers to every answer prepares them with `c.header()` before `next()`:
// an answer the route builds with `c.json()` / `c.body()` then gets them as it is constructed.
// Answers built any other way (an error's envelope, a handler's own Response, a 404) do not, so
// the middleware checks and adds after `next()`, unless the route said its answer already has them.
const answers = new WeakSet<Context>();

/**
 * Marks that this request's answer is built from the context, with every prepared header.
 *
 * @example
 * ```ts
 * includesPreparedHeaders(c);
 * return c.json(result);
 * ```
 */
export function includesPreparedHeaders(c: Context): void {
  answers.add(c);
}

/**
 * True when the answer was marked by {@link includesPreparedHeaders}: nothing to add after `next()`.
 *
 * @example
 * ```ts
 * await next();
 * if (hasPreparedHeaders(c)) return;
 * ```
 */
export function hasPreparedHeaders(c: Context): boolean {
  return answers.has(c);
}
