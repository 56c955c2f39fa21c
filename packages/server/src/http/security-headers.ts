import type { MiddlewareHandler } from 'hono';
import { addAnswerHeader } from './answer-headers.js';

/**
 * Headers on every answer: no sniffing, no framing, no referrer, a CSP that lets an API answer
 * load nothing; HSTS when the request came over https. A header the handler set itself (a
 * download's own CSP, say) is kept.
 *
 * The headers are collected with `addAnswerHeader`; the app's outermost middleware puts them on
 * every answer (see answer-headers.ts).
 *
 * @example
 * ```ts
 * app.use(securityHeaders());
 * ```
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    for (const [name, value] of c.req.url.startsWith('https:') ? httpsHeaders : httpHeaders)
      addAnswerHeader(c, name, value);
    await next();
  };
}

const httpHeaders: readonly (readonly [string, string])[] = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['referrer-policy', 'no-referrer'],
];
const httpsHeaders = [...httpHeaders, ['strict-transport-security', 'max-age=31536000; includeSubDomains'] as const];
