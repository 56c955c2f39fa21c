/** The attributes of a `Set-Cookie`, named as framework cookie APIs name them (Next.js, `cookie`). */
export interface CookieOptions {
  path?: string;
  domain?: string;
  /** Seconds; `0` or less deletes the cookie. */
  maxAge?: number;
  expires?: Date;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'lax' | 'strict' | 'none';
}

/** A cookie to set, as `cookies.setAll()` receives it. */
export interface CookieToSet {
  name: string;
  value: string;
  options: CookieOptions;
}

/**
 * How a server-side client reads the incoming request's cookies and writes cookies into the
 * response, through the app's framework.
 */
export interface CookieMethods {
  getAll(): { name: string; value: string }[];
  setAll(cookies: CookieToSet[]): void;
}

/** Incoming request headers: a `Headers`, or Node's `IncomingHttpHeaders`. */
export type IncomingHeaders = Headers | Record<string, string | string[] | undefined>;

const decode = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/**
 * Reads one `Set-Cookie` header value (RFC 6265 §5.2): the name, the value (unquoted and
 * percent-decoded, as frameworks expect) and the attributes Path, Domain, Max-Age, Expires,
 * Secure, HttpOnly and SameSite. Returns `undefined` for a header without a cookie name.
 *
 * @example
 * ```ts
 * parseSetCookie('sid=abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax');
 * // { name: 'sid', value: 'abc', options: { path: '/', maxAge: 3600, secure: true, httpOnly: true, sameSite: 'lax' } }
 * ```
 */
export function parseSetCookie(header: string): CookieToSet | undefined {
  const [pair = '', ...attributes] = header.split(';');
  const equals = pair.indexOf('=');
  const name = pair.slice(0, equals).trim();
  if (equals < 0 || name === '') return undefined;
  const options: CookieOptions = {};
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? '' : attribute.slice(at + 1).trim();
    if (key === 'path') options.path = value;
    else if (key === 'domain') options.domain = value.replace(/^\./, '');
    else if (key === 'max-age' && /^-?\d+$/.test(value)) options.maxAge = Number(value);
    else if (key === 'expires' && !Number.isNaN(Date.parse(value))) options.expires = new Date(value);
    else if (key === 'secure') options.secure = true;
    else if (key === 'httponly') options.httpOnly = true;
    else if (key === 'samesite') {
      const sameSite = value.toLowerCase();
      if (sameSite === 'lax' || sameSite === 'strict' || sameSite === 'none') options.sameSite = sameSite;
    }
  }
  const raw = pair.slice(equals + 1).trim();
  return { name, value: decode(raw.replace(/^"(.*)"$/, '$1')), options };
}

/**
 * A `Cookie` request header from name/value pairs. Characters a cookie value may not hold
 * (RFC 6265 §4.1.1: controls, space, `"`, `,`, `;`, `\`, non-ASCII) are percent-encoded; the rest
 * is sent as it is, so a value read back from the browser arrives as the server set it.
 *
 * @example
 * ```ts
 * cookieHeader([{ name: 'a', value: '1' }, { name: 'b', value: 'x y' }]); // 'a=1; b=x%20y'
 * ```
 */
export function cookieHeader(cookies: readonly { name: string; value: string }[]): string {
  return cookies
    .map(({ name, value }) => `${name}=${value.replace(/[^\x21-\x7E]|[",;\\]/gu, encodeURIComponent)}`)
    .join('; ');
}

/**
 * The `Cookie` header of an incoming request, for forwarding to the Plinth server. Only the
 * cookie is forwarded: the request's other headers (its Host, its Authorization) are not ours
 * to pass on.
 *
 * @example
 * ```ts
 * cookieOf(request.headers); // 'plinth_session=...' or undefined
 * cookieOf(req.headers); // Node's IncomingHttpHeaders work too
 * ```
 */
export function cookieOf(headers: IncomingHeaders): string | undefined {
  if (typeof headers.get === 'function') return (headers as Headers).get('cookie') ?? undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'cookie') return Array.isArray(value) ? value.join('; ') : value;
  }
  return undefined;
}

// Where a fetch has no Headers.getSetCookie() (older polyfills), the joined header is split at
// each comma that starts a new `name=`; the comma inside an Expires date is not followed by one.
const setCookiesOf = (headers: Headers): string[] =>
  headers.getSetCookie?.() ?? headers.get('set-cookie')?.split(/,(?=\s*[^;,=\s]+=)/) ?? [];

/**
 * A `fetch` for server-side rendering: requests to the Plinth server (`url`'s origin, and no
 * other) carry the incoming request's cookies from `cookies.getAll()`, and every `Set-Cookie` the
 * server answers is relayed through `cookies.setAll()`, so a sign-in, refresh or sign-out made
 * on the app's server reaches the browser. A request that already has a `Cookie` header (one
 * forwarded explicitly) keeps it.
 *
 * @example
 * ```ts
 * const transport = createTransport({ url, publishableKey, fetch: cookieForwardingFetch(url, cookies) });
 * ```
 */
export function cookieForwardingFetch(url: string, cookies: CookieMethods, baseFetch?: typeof fetch): typeof fetch {
  return async (input, init) => {
    // Resolved per call, so a fetch patched after creation (a test double, an APM agent) is used.
    const send = baseFetch ?? fetch;
    let request = new Request(input, init);
    if (new URL(request.url).origin !== new URL(url).origin) return send(request);
    const jar = cookies.getAll();
    if (jar.length > 0 && !request.headers.has('cookie')) {
      const headers = new Headers(request.headers);
      headers.set('cookie', cookieHeader(jar));
      request = new Request(request, { headers });
    }
    const response = await send(request);
    const relayed = setCookiesOf(response.headers)
      .map(parseSetCookie)
      .filter((cookie) => cookie !== undefined);
    if (relayed.length > 0) cookies.setAll(relayed);
    return response;
  };
}
