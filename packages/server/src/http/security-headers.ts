import type { MiddlewareHandler } from 'hono';
import { hasPreparedHeaders } from './prepared-headers.js';

/**
 * Headers on every answer: no sniffing, no framing, no referrer, a CSP that lets an API answer
 * load nothing; HSTS when the request came over https. A header the handler set itself (a
 * download's own CSP, say) is kept.
 *
 * @example
 * ```ts
 * app.use(securityHeaders());
 * ```
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    const https = c.req.url.startsWith('https:');
    // Prepared before the answer exists, they go into it as it is built (no copy, no re-set);
    // answers built elsewhere (errors, a handler's own Response) get them afterwards.
    for (const [name, value] of https ? httpsHeaders : httpHeaders) c.header(name, value);
    await next();
    if (hasPreparedHeaders(c)) return;
    const headers = c.res.headers;
    for (const [name, value] of https ? httpsHeaders : httpHeaders) if (!headers.has(name)) headers.set(name, value);
  };
}

const httpHeaders: readonly (readonly [string, string])[] = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['referrer-policy', 'no-referrer'],
];
const httpsHeaders = [...httpHeaders, ['strict-transport-security', 'max-age=31536000; includeSubDomains'] as const];
