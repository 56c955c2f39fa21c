import type { MiddlewareHandler } from 'hono';
import { addAnswerHeader } from './answer-headers.js';

/**
 * Headers on every answer: no sniffing, no framing, no referrer, a CSP that lets an API answer
 * load nothing; HSTS with `hsts` (the configured public URL is https). A header the handler set
 * itself (a download's own CSP, say) is kept.
 *
 * HSTS follows the configuration, not the request: behind a TLS-terminating proxy every request
 * arrives over plain http, and a request's own scheme (an absolute-form target) is the client's
 * to choose.
 *
 * The headers are collected with `addAnswerHeader`; the app's outermost middleware puts them on
 * every answer (see answer-headers.ts).
 *
 * @example
 * ```ts
 * app.use(securityHeaders({ hsts: publicUrl.startsWith('https:') }));
 * ```
 */
export function securityHeaders(options: { hsts: boolean }): MiddlewareHandler {
  const headers = options.hsts ? httpsHeaders : httpHeaders;
  return async (c, next) => {
    for (const [name, value] of headers) addAnswerHeader(c, name, value);
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
