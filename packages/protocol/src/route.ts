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
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** Every {@link ApiKeyScope}, in the order `plinth keys list` prints them. */
export const apiKeyScopes = ['data:read', 'data:write', 'storage:read', 'storage:write', 'realtime', 'admin'] as const;

/** A zod/mini schema, as routes use them. */
export type RouteSchema = z.ZodMiniType;

/** The request and response schemas of a route. */
export interface RouteSchemas<TRequest extends RouteSchema = RouteSchema, TResponse extends RouteSchema = RouteSchema> {
  readonly request: TRequest;
  readonly response: TResponse;
}

/**
 * One entry of the wire contract: everything both sides need to agree on about a route.
 *
 * The schemas live in a module of their own (`routes/<group>.schemas.ts`) and the route objects
 * exported per route carry them only as a type: a browser bundle that imports `signInRoute`
 * gets its types and its path, not the zod engine (about 6 kB gzipped). The route table joins
 * each route with its schemas (see {@link withSchemas}); the server validates with those, and
 * the SDK validates whenever a route object carries them.
 */
export interface Route<S extends RouteSchemas = RouteSchemas, N extends string = string> {
  /**
   * The SDK method that calls this route, as a user would write it (`auth.signIn`). Rate rules
   * and logs name routes by it; the route table gives the union of all of them ({@link RouteName}
   * in route-table.ts).
   */
  readonly name: N;
  readonly method: HttpMethod;
  /** Path under the server's base URL, with `:param` placeholders taken from the input. */
  readonly path: `/v1/${string}`;
  readonly auth: AuthRequirement;
  /**
   * The API-key scope every call of this `service` route needs, checked before the body is read.
   * A route whose need depends on the request declares {@link Route.scopeFor} instead.
   */
  readonly scope?: ApiKeyScope;
  /**
   * The API-key scopes this input needs, for a `service` route whose need depends on the request
   * (a data query: `data:read` to select, `data:write` to change). The server checks them once
   * the input has passed the request schema.
   */
  scopeFor?(input: z.output<S['request']>): readonly ApiKeyScope[];
  /**
   * A non-idempotent method (POST, PATCH) that is still safe to retry because the server
   * deduplicates by `Idempotency-Key`: the first answer is kept per caller and key for 24 h and
   * replayed. `true`: the SDK sends a key on every call. `'when-keyed'`: the server deduplicates
   * only when the caller passes a key (`idempotencyKey`), and only such calls are retried. GET,
   * HEAD, PUT and DELETE are idempotent by method.
   */
  readonly idempotent?: boolean | 'when-keyed';
  /**
   * `bytes`: the request body is the bytes of an upload, streamed to the handler as they arrive
   * (never parsed, never held whole); the input is the path parameters and the query string.
   */
  readonly body?: 'bytes';
  /** The schemas, when this route object carries them; always declared as a type. */
  readonly schemas?: S;
}

/** A route that carries its schemas at run time, as the route table's do. */
export type RouteWithSchemas<S extends RouteSchemas = RouteSchemas, N extends string = string> = Route<S, N> & {
  readonly schemas: S;
};

/** What a caller passes for a route (before the schema's defaults and transforms). */
export type RouteInput<R extends Route> = R extends Route<infer S> ? z.input<S['request']> : never;

/** What a route answers with, after the schema has validated it. */
export type RouteOutput<R extends Route> = R extends Route<infer S> ? z.output<S['response']> : never;

/**
 * Declares a route. The declaration is the only place a route exists: the server mounts it
 * and picks its auth middleware from it; the SDK derives headers, retries and the
 * missing-service-key check from it. Name the schemas' type to type the route without carrying
 * them (the first call), then give the route (the second call, which keeps the route's `name`
 * as a literal type so rate rules can be checked against the route table at compile time).
 *
 * @example
 * ```ts
 * import type { healthSchemas } from './health.schemas.js';
 * export const healthRoute = defineRoute<typeof healthSchemas>()({
 *   name: 'health',
 *   method: 'GET',
 *   path: '/v1/health',
 *   auth: 'none',
 * });
 * ```
 */
export function defineRoute<S extends RouteSchemas>(): <const N extends string>(route: Route<S, N>) => Route<S, N>;
/** Declares a route in one call; its name stays a literal type only when `S` is inferred too. */
export function defineRoute<S extends RouteSchemas = RouteSchemas, const N extends string = string>(
  route: Route<S, N>,
): Route<S, N>;
export function defineRoute(route?: Route): Route | ((route: Route) => Route) {
  return route === undefined ? freezeRoute : freezeRoute(route);
}

const freezeRoute = <R extends Route>(route: R): R => Object.freeze(route);

/**
 * The route with its schemas attached, for the route table, the server, and SDK callers that
 * want every answer checked against the contract.
 *
 * @example
 * ```ts
 * const healthWithSchemas = withSchemas(healthRoute, healthSchemas);
 * healthWithSchemas.schemas.response.safeParse(body);
 * ```
 */
export function withSchemas<S extends RouteSchemas, N extends string>(
  route: Route<S, N>,
  schemas: S,
): RouteWithSchemas<S, N> {
  const carried = Object.freeze({ ...route, schemas });
  declarations.set(carried, route);
  return carried;
}

// What withSchemas made each route of the table from: the server finds a route's handler by the
// route object the handler was declared for, whichever of the two objects it holds.
const declarations = new WeakMap<Route, Route>();

/**
 * The route object a route of the table was made from by {@link withSchemas} (the one the group
 * file exports), or the route itself when it was not made that way.
 *
 * @example
 * ```ts
 * declaredRoute(routeTable[0]) === healthRoute; // true
 * ```
 */
export function declaredRoute(route: Route): Route {
  return declarations.get(route) ?? route;
}

/**
 * True when a failed call to this route may be sent again without the risk of doing its work
 * twice: by method, or because the route is declared `idempotent`, or (`'when-keyed'`) because
 * this call carries an `Idempotency-Key`.
 *
 * @example
 * ```ts
 * isRetrySafe(healthRoute); // true: GET
 * isRetrySafe(sqlRoute, true); // true: the call sends an Idempotency-Key
 * ```
 */
export function isRetrySafe(route: Pick<Route, 'method' | 'idempotent'>, keyed = false): boolean {
  return (
    route.method === 'GET' ||
    route.method === 'HEAD' ||
    route.method === 'PUT' ||
    route.method === 'DELETE' ||
    route.idempotent === true ||
    (route.idempotent === 'when-keyed' && keyed)
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
