import type { MiddlewareHandler } from 'hono';

/**
 * Headers on every answer: no sniffing, no framing, no referrer, a CSP that lets an API answer
 * load nothing; HSTS when the request came over https.
 *
 * @example
 * ```ts
 * app.use(securityHeaders());
 * ```
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set('x-content-type-options', 'nosniff');
    headers.set('x-frame-options', 'DENY');
    headers.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    headers.set('referrer-policy', 'no-referrer');
    if (new URL(c.req.url).protocol === 'https:') {
      headers.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
    }
  };
}
