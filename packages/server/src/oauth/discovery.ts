import { isLoopbackUrl } from './provider-config.js';
import { isRecord, ProviderError, providerJson } from './provider-http.js';

/** The parts of an OpenID Provider's metadata (OpenID Connect Discovery 1.0 §3) the server uses. */
export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint: string | undefined;
  /** How the server authenticates at the token endpoint (RFC 6749 §2.3.1). */
  tokenEndpointAuth: 'client_secret_basic' | 'client_secret_post';
  /** RFC 9207: the provider puts `iss` in its authorization answers, so the callback requires it. */
  issInAuthorizationResponse: boolean;
}

/** How long a discovery document is trusted before it is read again. */
export const discoveryTtlMs = 60 * 60 * 1000;

/**
 * The URL of an issuer's discovery document: the issuer without a trailing slash, then
 * `/.well-known/openid-configuration` (Discovery §4).
 *
 * @example
 * ```ts
 * discoveryUrl('https://accounts.google.com'); // 'https://accounts.google.com/.well-known/openid-configuration'
 * ```
 */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/**
 * Checks a discovery document and picks what the server needs. The document's `issuer` must
 * equal the configured one exactly (Discovery §4.3: otherwise another issuer's keys and endpoints
 * could be slipped in), every endpoint must be https (http only when the issuer itself is on
 * localhost), and S256 must be supported when the provider lists its PKCE methods.
 *
 * @example
 * ```ts
 * const metadata = parseProviderMetadata('https://idp.example.com', await response.json());
 * ```
 */
export function parseProviderMetadata(issuer: string, document: unknown): ProviderMetadata {
  if (!isRecord(document)) throw new ProviderError('discovery: the document is not a JSON object');
  if (document.issuer !== issuer)
    throw new ProviderError(`discovery: the document names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
  const loopbackIssuer = isLoopbackUrl(new URL(issuer));
  const endpoint = (field: string, required: boolean): string | undefined => {
    const value = document[field];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string') throw new ProviderError(`discovery: ${field} is missing`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ProviderError(`discovery: ${field} is not an absolute URL`);
    }
    const plainAllowed = loopbackIssuer && url.protocol === 'http:' && isLoopbackUrl(url);
    if (url.protocol !== 'https:' && !plainAllowed) throw new ProviderError(`discovery: ${field} must use https`);
    if (url.username || url.password || url.hash)
      throw new ProviderError(`discovery: ${field} must not carry credentials or a fragment`);
    return url.href;
  };
  const methods = document.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256'))
    throw new ProviderError('discovery: the provider does not support PKCE S256');
  // Discovery §3: absent means client_secret_basic.
  const auth = document.token_endpoint_auth_methods_supported;
  const authMethods = Array.isArray(auth) ? auth : ['client_secret_basic'];
  const tokenEndpointAuth = authMethods.includes('client_secret_basic')
    ? 'client_secret_basic'
    : authMethods.includes('client_secret_post')
      ? 'client_secret_post'
      : undefined;
  if (!tokenEndpointAuth)
    throw new ProviderError('discovery: the token endpoint takes neither client_secret_basic nor client_secret_post');
  return {
    issuer,
    authorizationEndpoint: endpoint('authorization_endpoint', true) as string,
    tokenEndpoint: endpoint('token_endpoint', true) as string,
    jwksUri: endpoint('jwks_uri', true) as string,
    userinfoEndpoint: endpoint('userinfo_endpoint', false),
    tokenEndpointAuth,
    issInAuthorizationResponse: document.authorization_response_iss_parameter_supported === true,
  };
}

/**
 * A cache of discovery documents by issuer: each is read once per {@link discoveryTtlMs}, and
 * concurrent sign-ins share one read. A failed read is not cached, so the next sign-in tries again.
 *
 * @example
 * ```ts
 * const discover = createDiscovery();
 * const metadata = await discover('https://accounts.google.com');
 * ```
 */
export function createDiscovery(ttlMs: number = discoveryTtlMs): (issuer: string) => Promise<ProviderMetadata> {
  const cache = new Map<string, { until: number; metadata: Promise<ProviderMetadata> }>();
  return (issuer) => {
    const cached = cache.get(issuer);
    if (cached && cached.until > performance.now()) return cached.metadata;
    const metadata = providerJson('discovery', discoveryUrl(issuer)).then((document) =>
      parseProviderMetadata(issuer, document),
    );
    cache.set(issuer, { until: performance.now() + ttlMs, metadata });
    metadata.catch(() => {
      if (cache.get(issuer)?.metadata === metadata) cache.delete(issuer);
    });
    return metadata;
  };
}
