import type { Caller } from './caller.js';

/**
 * Who acted, as the audit log records it: a signed-in user, the service key, or a scoped API key
 * (by its id, never the key itself).
 */
export type Actor =
  | { readonly type: 'user'; readonly id: string }
  | { readonly type: 'service' }
  | { readonly type: 'api_key'; readonly id: string };

/**
 * What is known about the request being served: who asked and from where. Handlers pass it on to
 * what records it (the audit log, a session's device), including work left for after the answer.
 */
export interface RequestContext {
  /** The request's id, as its answer's `x-request-id` carries it. */
  readonly requestId: string;
  /** The client's address as the rate limiter works it out; undefined when there is no socket. */
  readonly ip: string | undefined;
  /** The `User-Agent` header, cut to {@link maxUserAgentLength} characters. */
  readonly userAgent: string | undefined;
  /** The caller the route's guard authenticated; undefined for an anonymous one. */
  readonly actor: Actor | undefined;
}

/** The longest user agent kept: enough for any real browser's, too short to fill the log. */
export const maxUserAgentLength = 512;

/**
 * The context of a request whose caller the route's guard has authenticated: the user agent cut
 * to size, the actor the caller is ({@link actorOf}).
 *
 * @example
 * ```ts
 * requestContext({ requestId: 'r1', ip: '203.0.113.7', userAgent: request.headers.get('user-agent'), caller });
 * ```
 */
export function requestContext(request: {
  requestId: string;
  ip: string | undefined;
  userAgent: string | null | undefined;
  caller: Caller;
}): RequestContext {
  const userAgent = request.userAgent ? request.userAgent.slice(0, maxUserAgentLength) : undefined;
  return { requestId: request.requestId, ip: request.ip, userAgent, actor: actorOf(request.caller) };
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
