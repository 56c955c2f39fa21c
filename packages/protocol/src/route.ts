import type * as z from 'zod/mini';

/**
 * Who may call a route.
 * - `none`: anyone (the publishable key identifies the app, not the caller).
 * - `session`: a signed-in user, by HttpOnly session cookie or access token.
 * - `service`: the app's server, with the service key or a scoped API key.
 * - `ticket`: a holder of a realtime ticket minted by the app's server.
 * - `presigned`: a holder of a URL the server signed (uploads, downloads).
 */
export type AuthRequirement = 'none' | 'session' | 'service' | 'ticket' | 'presigned';

/** HTTP methods a route may use. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * API-key scopes. A scoped API key (`ak_...`) can call a `service` route only when it holds the
 * route's scope; the service key holds them all.
 */
export type ApiKeyScope = 'data:read' | 'data:write' | 'storage:read' | 'storage:write' | 'realtime' | 'admin';

/** A zod/mini schema, as routes use them. */
export type RouteSchema = z.ZodMiniType;

/** One entry of the wire contract: everything both sides need to agree on about a route. */
export interface Route<TRequest extends RouteSchema = RouteSchema, TResponse extends RouteSchema = RouteSchema> {
  /** The SDK method that calls this route, as a user would write it (`auth.signIn`). */
  readonly name: string;
  readonly method: HttpMethod;
  /** Path under the server's base URL, with `:param` placeholders taken from the input. */
  readonly path: `/v1/${string}`;
  readonly auth: AuthRequirement;
  /** The API-key scope a `service` route needs. */
  readonly scope?: ApiKeyScope;
  /**
   * A non-idempotent method (POST, PATCH) that is still safe to retry because the server
   * deduplicates by `Idempotency-Key`. GET, HEAD, PUT and DELETE are idempotent by method.
   */
  readonly idempotent?: boolean;
  readonly request: TRequest;
  readonly response: TResponse;
}

/** What a caller passes for a route (before the schema's defaults and transforms). */
export type RouteInput<R extends Route> = z.input<R['request']>;

/** What a route answers with, after the schema has validated it. */
export type RouteOutput<R extends Route> = z.output<R['response']>;

/**
 * Declares a route. The declaration is the only place a route exists: the server mounts it
 * and picks its auth middleware from it; the SDK derives headers, retries and the
 * missing-service-key check from it.
 *
 * @example
 * ```ts
 * import * as z from 'zod/mini';
 * export const healthRoute = defineRoute({
 *   name: 'health',
 *   method: 'GET',
 *   path: '/v1/health',
 *   auth: 'none',
 *   request: z.object({}),
 *   response: z.object({ status: z.literal('ok') }),
 * });
 * ```
 */
export function defineRoute<TRequest extends RouteSchema, TResponse extends RouteSchema>(
  route: Route<TRequest, TResponse>,
): Route<TRequest, TResponse> {
  return Object.freeze(route);
}

/**
 * True when a failed call to this route may be sent again without the risk of doing its work
 * twice: by method, or because the route is declared `idempotent`.
 *
 * @example
 * ```ts
 * isRetrySafe(healthRoute); // true: GET
 * ```
 */
export function isRetrySafe(route: Pick<Route, 'method' | 'idempotent'>): boolean {
  return (
    route.method === 'GET' ||
    route.method === 'HEAD' ||
    route.method === 'PUT' ||
    route.method === 'DELETE' ||
    route.idempotent === true
  );
}

/**
 * The names of the `:param` placeholders in a route path, in order.
 *
 * @example
 * ```ts
 * pathParams('/v1/storage/buckets/:bucket/objects/:key'); // ['bucket', 'key']
 * ```
 */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] as string);
}
