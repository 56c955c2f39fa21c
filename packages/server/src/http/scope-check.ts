import type { ApiKeyScope, Route } from '@plinth/protocol';
import type { Caller } from './caller.js';
import { HttpError } from './http-error.js';

/**
 * Refuses an API-key caller that lacks one of `needed` with a 403 `insufficient_scope` naming
 * the first missing scope; the service key, sessions and anonymous callers pass (their routes'
 * auth kind already decided). The route's scopes come from its declaration in @plinth/protocol:
 * `scope` (checked by the guard) and `scopeFor(input)` (checked by {@link assertInputScopes}).
 *
 * @example
 * ```ts
 * assertScopes(caller, ['data:write'], route); // throws HttpError('insufficient_scope', …)
 * ```
 */
export function assertScopes(
  caller: Caller,
  needed: readonly ApiKeyScope[],
  route: Pick<Route, 'method' | 'path'>,
): void {
  if (caller.kind !== 'service' || caller.apiKey === undefined) return;
  const held = caller.apiKey.scopes;
  const missing = needed.filter((scope) => !held.includes(scope));
  if (missing.length === 0) return;
  throw new HttpError(
    'insufficient_scope',
    `${route.method} ${route.path} needs the ${missing.join(' and ')} scope${missing.length > 1 ? 's' : ''}; the API key ak_${caller.apiKey.prefix}… holds ${held.join(', ')}. Make a key with ${missing.join(', ')} (plinth keys create --scopes …) or use the service key.`,
    { scope: missing[0], missing, held: [...held] },
  );
}

/**
 * The one place a route's input-dependent scopes are enforced: once the input has passed the
 * route's schema, `scopeFor(input)` says what this call needs (a select `data:read`, a batch the
 * union of its steps). Routes without `scopeFor` pass.
 *
 * @example
 * ```ts
 * assertInputScopes(queryRoute, caller, { table: 'posts', op: 'insert', values: {} }); // needs data:write
 * ```
 */
export function assertInputScopes<R extends Route>(route: R, caller: Caller, input: unknown): void {
  if (route.scopeFor === undefined) return;
  if (caller.kind !== 'service' || caller.apiKey === undefined) return;
  assertScopes(caller, route.scopeFor(input as never), route);
}
