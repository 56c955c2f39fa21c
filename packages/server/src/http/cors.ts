import type { MiddlewareHandler } from 'hono';
import { hasPreparedHeaders } from './prepared-headers.js';

const allowHeaders = 'authorization, apikey, content-type, x-request-id, idempotency-key';
const exposeHeaders = 'x-request-id, retry-after';

/**
 * CORS for the app origins in the allow-list only. A listed origin may read answers and send
 * cookies (credentials); any other origin gets no CORS header at all, so browsers keep its pages
 * from reading anything. Preflights from listed origins are answered here.
 *
 * @example
 * ```ts
 * app.use(corsForAppOrigins(['https://app.example.com']));
 * ```
 */
export function corsForAppOrigins(allowed: readonly string[]): MiddlewareHandler {
  const origins = new Set(allowed.map((origin) => new URL(origin).origin));
  return async (c, next) => {
    const origin = c.req.header('origin');
    const listed = origin !== undefined && origins.has(origin);
    if (listed && c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      return c.body(null, 204, {
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': allowHeaders,
        'access-control-max-age': '600',
        vary: 'origin',
      });
    }
    const granted: readonly (readonly [string, string])[] = listed
      ? [
          ['access-control-allow-origin', origin],
          ['access-control-allow-credentials', 'true'],
          ['access-control-expose-headers', exposeHeaders],
        ]
      : [];
    c.header('vary', 'origin');
    for (const [name, value] of granted) c.header(name, value);
    await next();
    if (hasPreparedHeaders(c)) return;
    const headers = c.res.headers;
    const vary = headers.get('vary');
    if (
      !vary
        ?.toLowerCase()
        .split(/\s*,\s*/)
        .includes('origin')
    )
      headers.append('vary', 'origin');
    for (const [name, value] of granted) headers.set(name, value);
  };
}
