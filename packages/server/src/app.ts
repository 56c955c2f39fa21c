import { declaredRoute, type Route, type RouteWithSchemas, routeTable, wireHeaders } from '@plinth/protocol';
import { Hono } from 'hono';
import {
  databaseRetryAfterSeconds,
  databaseUnavailableError,
  isDatabaseUnavailable,
} from './database/database-unavailable.js';
import type { FeatureModule } from './feature-module.js';
import { addAnswerHeader, answeredStatus, answerJson, applyAnswerHeaders } from './http/answer-headers.js';
import { type Authenticators, authenticate } from './http/auth-guard.js';
import { corsForAppOrigins } from './http/cors.js';
import { HttpError } from './http/http-error.js';
import { readInput } from './http/read-input.js';
import { requestContext } from './http/request-context.js';
import { requestIdFor } from './http/request-id.js';
import { bytesOf, type RouteHandler } from './http/route-handler.js';
import { assertInputScopes } from './http/scope-check.js';
import { securityHeaders } from './http/security-headers.js';
import {
  createIdempotencyStore,
  type IdempotencyScope,
  idempotencyKeyOf,
  idempotencyOwner,
  readsOnly,
  requestFingerprint,
} from './idempotency/idempotency.js';
import { clientIp, unknownClientIp } from './rate-limit/client-ip.js';
import { nodeSocketAddress, rateLimit } from './rate-limit/rate-limit-middleware.js';
import type { ServerServices } from './server-services.js';

/** How the HTTP app is put together. */
export interface AppOptions {
  services: ServerServices;
  /** The feature modules whose handlers serve the routes (`featureModules` in features.ts). */
  modules: readonly Pick<FeatureModule, 'name' | 'handlers'>[];
  authenticators?: Authenticators;
  /** App origins allowed by CORS, with credentials. */
  corsOrigins?: readonly string[];
  /** The cap on JSON request bodies, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Check every answer against the route's response schema (tests and `plinth dev`). */
  validateResponses?: boolean;
  /** The header a trusted reverse proxy sets to the client's IP; unset, only the socket address counts. */
  trustedProxyHeader?: string | undefined;
  /** Send HSTS on every answer: browsers reach the server over https (its public URL is https). */
  hsts?: boolean;
  /** The routes to mount; the protocol's table unless a test says otherwise. */
  routes?: readonly RouteWithSchemas[];
}

type Env = { Variables: { requestId: string } };

// The rate limit runs inside each route's handler (one middleware layer fewer per request); it
// throws when it refuses, so there is nothing for it to call next.
const proceed = async () => {};

const pathPattern = (path: string) => new RegExp(`^${path.replace(/:[A-Za-z_]\w*/g, '[^/]+')}$`);

/** Every module's handlers in one map by route object; a route served twice is a start-up error. */
function joinHandlers(modules: AppOptions['modules']): Map<Route, RouteHandler> {
  const joined = new Map<Route, RouteHandler>();
  const servedBy = new Map<Route, string>();
  for (const module of modules) {
    for (const [declared, handler] of module.handlers) {
      // A handler may be declared for the group file's route or for the table's copy of it.
      const route = declaredRoute(declared);
      const other = servedBy.get(route);
      if (other !== undefined) {
        throw new Error(`${route.name} is served by both the ${other} and the ${module.name} module; keep one.`);
      }
      servedBy.set(route, module.name);
      joined.set(route, handler);
    }
  }
  return joined;
}

/**
 * The HTTP app: every route of the protocol's table mounted with the auth guard its declaration
 * names, its input validated, every failure answered in the error envelope.
 *
 * @example
 * ```ts
 * const app = createApp({ services, modules: featureModules });
 * serve({ fetch: app.fetch, port: 8787 });
 * ```
 */
export function createApp(options: AppOptions): Hono<Env> {
  const { services, authenticators = {}, maxBodyBytes = 1_048_576 } = options;
  const routes = options.routes ?? routeTable;
  const handlerFor = joinHandlers(options.modules);
  const app = new Hono<Env>();
  const idempotency = createIdempotencyStore(services.database);

  app.use(async (c, next) => {
    const requestId = requestIdFor(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    const logging = services.logger.isLevelEnabled('info');
    const started = logging ? performance.now() : 0;
    addAnswerHeader(c, 'x-request-id', requestId);
    await next();
    const sent = answeredStatus(c);
    // Answers built another way (errors, a handler's own Response, 404s) get the headers now.
    if (sent === undefined) applyAnswerHeaders(c, c.res.headers);
    // Method, path and status only: never headers, bodies or query strings (tokens live there).
    if (logging)
      services.logger.info(
        {
          requestId,
          method: c.req.method,
          path: c.req.path,
          status: sent ?? c.res.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
  });
  app.use(securityHeaders({ hsts: options.hsts ?? false }));
  app.use(corsForAppOrigins(options.corsOrigins ?? []));

  const limit = rateLimit({
    limiter: services.rateLimiter,
    ...(options.trustedProxyHeader ? { trustedProxyHeader: options.trustedProxyHeader } : {}),
    rules: services.rateRules,
  });

  for (const route of routes) {
    const handler = handlerFor.get(declaredRoute(route));
    const limited = limit(route.name);
    app.on(route.method, route.path, async (c) => {
      // Before the auth guard and the body read: a refused request costs no key check, parse or hash.
      await limited(c, proceed);
      const requestId = c.get('requestId');
      const caller = await authenticate(route, c.req.raw, services.keys, authenticators);
      // Who and from where, for the audit log and a session's device, passed on by the handler
      // (to work after the answer too): the address is the rate limiter's, by the same function
      // and the same trusted header.
      const ip = clientIp(c.req.raw, nodeSocketAddress(c), options.trustedProxyHeader);
      const context = requestContext({
        requestId,
        ip: ip === unknownClientIp ? undefined : ip,
        userAgent: c.req.header('user-agent'),
        caller,
      });
      if (!handler) {
        throw new HttpError(
          'not_implemented',
          `${route.method} ${route.path} (${route.name}) is not served by this server yet.`,
        );
      }
      const incoming = (c.env as { incoming?: AsyncIterable<Uint8Array> } | undefined)?.incoming;
      const input = await readInput(route, c.req.raw, c.req.param() as Record<string, string>, maxBodyBytes, incoming);
      // Scopes that depend on the input (a select needs data:read, a change data:write): checked
      // here, where every route's input is first known, before any idempotency claim or handler.
      assertInputScopes(route, caller, input);
      // An idempotent route with an Idempotency-Key: a retry of a call already answered gets that
      // answer again; a call still running, a 409 (docs/transport.md, "Idempotency keys").
      const key = route.idempotent ? idempotencyKeyOf(c.req.raw) : undefined;
      const owner = key === undefined || readsOnly(route, input) ? undefined : idempotencyOwner(caller);
      let scope: IdempotencyScope | undefined;
      if (key !== undefined && owner !== undefined) {
        const fingerprint = requestFingerprint(
          `${route.method} ${c.req.path}`,
          c.req.header(wireHeaders.actAs) ?? null,
          input,
        );
        const start = await idempotency.begin(owner, key, fingerprint);
        if ('replay' in start) return start.replay;
        scope = start.scope;
      }
      let result: Awaited<ReturnType<typeof handler.handle>>;
      try {
        result = await handler.handle({
          input: input as never,
          caller,
          request: c.req.raw,
          context,
          services,
          ...(scope ? { idempotency: scope } : {}),
          ...(route.body === 'bytes'
            ? { body: bytesOf(incoming ?? (c.req.raw.body as AsyncIterable<Uint8Array> | null)) }
            : {}),
        });
      } catch (error) {
        // Failed work did nothing (a data write rolled back with its record): a retry runs again.
        if (scope) await idempotency.release(scope);
        throw error;
      }
      if (result instanceof Response) {
        if (scope) {
          const body = result.body === null ? null : await result.clone().text();
          await idempotency.finish(scope, { status: result.status, headers: result.headers, body });
        }
        return result;
      }
      if (options.validateResponses) {
        const checked = route.schemas.response.safeParse(result);
        if (!checked.success)
          throw new Error(
            `${route.name} answered outside its response schema: ${JSON.stringify(checked.error.issues)}`,
          );
      }
      if (scope) {
        await idempotency.finish(scope, {
          status: result === undefined ? 204 : 200,
          headers: new Headers(result === undefined ? {} : { 'content-type': 'application/json' }),
          body: result === undefined ? null : JSON.stringify(result),
        });
      }
      return answerJson(c, result);
    });
  }

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = routes.filter((route) => pathPattern(route.path).test(path)).map((route) => route.method);
    const error =
      allowed.length > 0
        ? new HttpError(
            'method_not_allowed',
            `${c.req.method} is not allowed on ${path}; use ${allowed.join(' or ')}.`,
            undefined,
            {
              allow: allowed.join(', '),
            },
          )
        : new HttpError('route_not_found', `No route ${c.req.method} ${path}. \`plinth routes\` lists them.`);
    return error.toResponse(c.get('requestId'));
  });

  app.onError((error, c) => {
    const requestId = c.get('requestId') ?? requestIdFor(undefined);
    if (isDatabaseUnavailable(error)) {
      services.logger.warn({ requestId, err: { message: error.message } }, 'database unavailable');
      return databaseUnavailableError(error).toResponse(requestId);
    }
    if (error instanceof HttpError) {
      // A deliberate 500 or 503 (the database failing or down) is still the operator's to know about.
      if (error.status === 500 || error.status === 503) {
        const cause = error.cause instanceof Error ? error.cause.message : undefined;
        services.logger.error({ requestId, code: error.code, details: error.details, cause }, error.message);
      }
      const response = error.toResponse(requestId);
      // Every 503 tells the client when to try again.
      if (error.status === 503 && !response.headers.has('retry-after'))
        response.headers.set('retry-after', String(databaseRetryAfterSeconds));
      return response;
    }
    services.logger.error(
      { requestId, err: { name: error.name, message: error.message, stack: error.stack } },
      'unhandled error',
    );
    return new HttpError(
      'internal_error',
      `The server failed on this request. Quote request id ${requestId} when you report it.`,
    ).toResponse(requestId);
  });

  return app;
}
