import type { MiddlewareHandler } from 'hono';
import { addAnswerHeader } from './answer-headers.js';

// content-digest: a browser upload may send its SHA-256 for the server to check (docs/storage.md).
// last-event-id: a realtime stream resumes after it (docs/realtime.md); fetch does not safelist it.
const allowHeaders =
  'authorization, apikey, content-type, x-request-id, idempotency-key, content-digest, last-event-id';
const exposeHeaders = 'x-request-id, retry-after';

/**
 * CORS for the app origins in the allow-list only. A listed origin may read answers and send
 * cookies (credentials); any other origin gets no CORS header at all, so browsers keep its pages
 * from reading anything. Preflights from listed origins are answered here.
 *
 * The headers are collected with `addAnswerHeader`; the app's outermost middleware puts them on
 * every answer (see answer-headers.ts).
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
    addAnswerHeader(c, 'vary', 'origin');
    if (listed) {
      addAnswerHeader(c, 'access-control-allow-origin', origin);
      addAnswerHeader(c, 'access-control-allow-credentials', 'true');
      addAnswerHeader(c, 'access-control-expose-headers', exposeHeaders);
    }
    await next();
  };
}
