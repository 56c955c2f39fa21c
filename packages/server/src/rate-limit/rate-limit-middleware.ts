import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { HttpError } from '../http/http-error.js';
import { clientIp } from './client-ip.js';
import { defaultRouteRule, rateLimitKey, ruleFor, withRateRules } from './rate-limit-rules.js';
import type { RateLimiter, RateRule } from './rate-limiter.js';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Where the buckets live: `createMemoryRateLimiter()`, or `createRedisRateLimiter(url)` for several instances. */
  limiter: RateLimiter;
  /**
   * Rules by route name, and `default` for the rest (600 a minute when not given). The server
   * passes its modules' rules with the operator's overrides (`defaultRateRules` in features.ts).
   */
  rules?: Readonly<Record<string, RateRule>>;
  /**
   * The header a trusted reverse proxy sets to the client's address (`x-forwarded-for`,
   * `cf-connecting-ip`). Unset (the default), only the socket's address counts. See `clientIp`.
   */
  trustedProxyHeader?: string;
  /** The socket's remote address. Default: @hono/node-server's `c.env.incoming.socket.remoteAddress`. */
  remoteAddress?: (c: Context) => string | undefined;
}

/**
 * The socket's remote address under @hono/node-server, or undefined without a socket: what
 * `rateLimit` reads by default, and the app's request context with it (one address per request).
 * The same lookup as `getConnInfo` from '@hono/node-server/conninfo', minus its throw when the
 * app runs without a Node socket (`app.request` in tests): there the address is just unknown.
 *
 * @example
 * ```ts
 * clientIp(c.req.raw, nodeSocketAddress(c), 'x-forwarded-for');
 * ```
 */
export const nodeSocketAddress = (c: Context): string | undefined =>
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Rate limiting as Hono middleware, one per route: `limit('auth.signIn')` takes a token from the
 * bucket of (route, client address) under the route's rule, and refuses with 429 `rate_limited`
 * in the error envelope, with `Retry-After`, once the bucket is empty. Put it before the auth
 * guard and input parsing, so a refused request costs no key check, body read or password hash.
 *
 * @example
 * ```ts
 * const limit = rateLimit({ limiter: createMemoryRateLimiter(), trustedProxyHeader: 'x-forwarded-for' });
 * app.post('/v1/auth/sign-in', limit('auth.signIn'), signInHandler);
 * ```
 */
export function rateLimit(options: RateLimitOptions): (routeName: string) => MiddlewareHandler {
  const { limiter, trustedProxyHeader } = options;
  // Checked here, once: a bad header name would otherwise throw on every request.
  if (trustedProxyHeader !== undefined && !headerName.test(trustedProxyHeader)) {
    throw new RangeError(`trustedProxyHeader ${JSON.stringify(trustedProxyHeader)} is not an HTTP header name.`);
  }
  const rules = withRateRules({ default: defaultRouteRule }, options.rules);
  const remoteAddress = options.remoteAddress ?? nodeSocketAddress;

  return (routeName) => {
    const rule = ruleFor(routeName, rules);
    return async (c, next) => {
      const ip = clientIp(c.req.raw, remoteAddress(c), trustedProxyHeader);
      const decision = await limiter.consume(rateLimitKey(routeName, ip), rule);
      if (!decision.allowed) {
        const seconds = decision.retryAfterSeconds;
        throw new HttpError(
          'rate_limited',
          `Too many requests to ${routeName}; try again in ${seconds} s.`,
          { retryAfter: seconds },
          { 'retry-after': String(seconds) },
        );
      }
      await next();
    };
  };
}
