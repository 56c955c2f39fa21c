import { AsyncLocalStorage } from 'node:async_hooks';
import type { Caller } from './caller.js';

/**
 * Who acted, as the audit log records it: a signed-in user, the service key, or a scoped API key
 * (by its id, never the key itself).
 */
export type Actor =
  | { readonly type: 'user'; readonly id: string }
  | { readonly type: 'service' }
  | { readonly type: 'api_key'; readonly id: string };

/** What is known about the request being served, wherever its work runs. */
export interface RequestContext {
  /** The request's id, as its answer's `x-request-id` carries it. */
  readonly requestId: string;
  /** The client's address as the rate limiter works it out; undefined when there is no socket. */
  readonly ip: string | undefined;
  /** The `User-Agent` header, cut to {@link maxUserAgentLength} characters. */
  readonly userAgent: string | undefined;
  /** Set once the route's guard has authenticated the caller; undefined while anonymous. */
  actor: Actor | undefined;
}

/** The longest user agent kept: enough for any real browser's, too short to fill the log. */
export const maxUserAgentLength = 512;

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `work` with `context` as the current request's: everything it starts, awaits or schedules
 * (timers, `setImmediate`, work after the answer) sees the same context.
 *
 * @example
 * ```ts
 * await runInRequestContext(requestContext({ requestId, ip, userAgent }), () => next());
 * ```
 */
export function runInRequestContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/**
 * A fresh context for a request: no actor until the guard sets one; the user agent cut to size.
 *
 * @example
 * ```ts
 * requestContext({ requestId: 'r1', ip: '203.0.113.7', userAgent: request.headers.get('user-agent') });
 * ```
 */
export function requestContext(request: {
  requestId: string;
  ip: string | undefined;
  userAgent: string | null | undefined;
}): RequestContext {
  const userAgent = request.userAgent ? request.userAgent.slice(0, maxUserAgentLength) : undefined;
  return { requestId: request.requestId, ip: request.ip, userAgent, actor: undefined };
}

/**
 * The context of the request whose work is running, or undefined outside any request (the CLI,
 * the webhook sender's loop).
 *
 * @example
 * ```ts
 * const ip = currentRequestContext()?.ip;
 * ```
 */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * The actor a caller is: anonymous, presigned-URL and ticket holders are none (they proved no
 * account or key of their own).
 *
 * @example
 * ```ts
 * actorOf({ kind: 'service' }); // { type: 'service' }
 * actorOf({ kind: 'anonymous' }); // undefined
 * ```
 */
export function actorOf(caller: Caller): Actor | undefined {
  if (caller.kind === 'user') return { type: 'user', id: caller.userId };
  if (caller.kind === 'service') return caller.apiKey ? { type: 'api_key', id: caller.apiKey.id } : { type: 'service' };
  return undefined;
}

/**
 * Records who the current request's caller is, once the route's guard has authenticated them;
 * nothing outside a request.
 *
 * @example
 * ```ts
 * const caller = await authenticate(route, request, keys, authenticators);
 * recordCaller(caller);
 * ```
 */
export function recordCaller(caller: Caller): void {
  const context = storage.getStore();
  if (context) context.actor = actorOf(caller);
}
