/**
 * Whether a cookie-carrying, state-changing request may have come from a page we trust (the
 * CSRF check). A browser always tells: `Origin` on every non-GET request, `Sec-Fetch-Site` in
 * every modern one. A request with neither did not come from a browser, and a forged
 * cross-site request needs one, so it passes (server-side rendering forwards cookies so).
 *
 * @example
 * ```ts
 * if (!isTrustedOrigin(request, appOrigins)) throw new HttpError('origin_rejected', '…');
 * ```
 */
export function isTrustedOrigin(request: Request, appOrigins: readonly string[]): boolean {
  const origin = request.headers.get('origin');
  if (origin !== null) return origin === new URL(request.url).origin || appOrigins.includes(origin);
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin' || site === 'none';
  return true;
}
