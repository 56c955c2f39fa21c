import type { Route, RouteOutput } from '@plinth/protocol';
import type * as z from 'zod/mini';
import type { IdempotencyScope } from '../idempotency/idempotency.js';
import type { ServerServices } from '../server-services.js';
import type { Caller } from './caller.js';
import type { RequestContext } from './request-context.js';

/** The validated input of a route, after its schema's defaults and transforms. */
export type ParsedInput<R extends Route> = R extends Route<infer S> ? z.output<S['request']> : never;

/** What a handler receives. */
export interface HandlerContext<R extends Route> {
  readonly input: ParsedInput<R>;
  readonly caller: Caller;
  readonly request: Request;
  /** The request's id, its caller as the audit log names them, the client's address and user agent. */
  readonly context: RequestContext;
  readonly services: ServerServices;
  /**
   * Set on an `idempotent` route called with an `Idempotency-Key` (claimed, not a replay). A data
   * write records its answer in its own transaction with it; otherwise the app records the answer.
   */
  readonly idempotency?: IdempotencyScope;
  /** The request's bytes as they arrive, on a route declared `body: 'bytes'` (uploads). */
  readonly body?: AsyncIterable<Uint8Array>;
}

/**
 * The bytes of a request, for a route declared `body: 'bytes'`: the stream as given, or none.
 *
 * @example
 * ```ts
 * for await (const chunk of bytesOf(context.body)) hash.update(chunk);
 * ```
 */
export const bytesOf = (body: AsyncIterable<Uint8Array> | null | undefined): AsyncIterable<Uint8Array> =>
  body ?? (async function* () {})();

/** A route's handler: its typed output, or a whole `Response` (redirects, cookies). */
export interface RouteHandler<R extends Route = Route> {
  readonly route: R;
  handle(context: HandlerContext<R>): Promise<RouteOutput<R> | Response>;
}

/**
 * Declares the handler of a route from @plinth/protocol. Input and output are typed by the
 * route's schemas; the app validates the input (and its API-key scopes) before, and (in tests)
 * the output after.
 *
 * @example
 * ```ts
 * export const healthHandler = defineHandler(healthRoute, async ({ services }) => ({ status: 'ok', ... }));
 * ```
 */
export function defineHandler<R extends Route>(
  route: R,
  handle: (context: HandlerContext<R>) => Promise<RouteOutput<R> | Response>,
): RouteHandler<R> {
  return { route, handle };
}
