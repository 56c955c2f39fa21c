import type { ProviderMetadata } from './discovery.js';
import { identityFromClaims, type ProviderIdentity } from './id-token.js';
import type { OAuthProvider } from './provider-config.js';
import { isRecord, ProviderError, providerJson } from './provider-http.js';

type Client = Pick<OAuthProvider, 'clientId' | 'clientSecret'>;

/** The secrets of the server's own leg toward the provider, made per flow. */
export interface ProviderLeg {
  state: string;
  /** The server's PKCE S256 challenge (its verifier stays in the flow record). */
  codeChallenge: string;
  nonce: string;
  redirectUri: string;
}

/**
 * The provider URL the browser is sent to (OpenID Connect Core §3.1.2.1): the authorization code
 * flow with the server's own state, PKCE S256 challenge and nonce.
 *
 * @example
 * ```ts
 * const location = authorizationUrl(metadata.authorizationEndpoint, provider, 'openid email profile', leg);
 * ```
 */
export function authorizationUrl(endpoint: string, client: Client, scope: string, leg: ProviderLeg): string {
  const url = new URL(endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', leg.redirectUri);
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', leg.state);
  url.searchParams.set('code_challenge', leg.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  if (leg.nonce) url.searchParams.set('nonce', leg.nonce);
  return url.href;
}

/**
 * The request to a token endpoint that trades the provider's code (RFC 6749 §4.1.3 with RFC 7636
 * §4.5), the client authenticated by HTTP Basic (each part form-encoded first, §2.3.1) or in the
 * body.
 *
 * @example
 * ```ts
 * const init = tokenRequest(provider, 'client_secret_basic', { code, redirectUri, codeVerifier });
 * ```
 */
export function tokenRequest(
  client: Client,
  auth: ProviderMetadata['tokenEndpointAuth'],
  grant: { code: string; redirectUri: string; codeVerifier: string },
): RequestInit {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: grant.code,
    redirect_uri: grant.redirectUri,
    code_verifier: grant.codeVerifier,
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth === 'client_secret_basic') {
    const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
  } else {
    body.set('client_id', client.clientId);
    body.set('client_secret', client.clientSecret);
  }
  return { method: 'POST', headers, body: body.toString() };
}

/**
 * Trades the provider's code at its token endpoint for an access token and an ID token.
 *
 * @example
 * ```ts
 * const { accessToken, idToken } = await exchangeOidcCode(metadata, provider, { code, redirectUri, codeVerifier });
 * ```
 */
export async function exchangeOidcCode(
  metadata: ProviderMetadata,
  client: Client,
  grant: { code: string; redirectUri: string; codeVerifier: string },
): Promise<{ accessToken: string; idToken: string }> {
  const answer = await providerJson(
    'token endpoint',
    metadata.tokenEndpoint,
    tokenRequest(client, metadata.tokenEndpointAuth, grant),
  );
  if (!isRecord(answer) || typeof answer.access_token !== 'string' || typeof answer.id_token !== 'string')
    throw new ProviderError('token endpoint: the answer has no access_token and id_token');
  return { accessToken: answer.access_token, idToken: answer.id_token };
}

/**
 * Reads the email from the userinfo endpoint (OpenID Connect Core §5.3), for providers that keep
 * it out of the ID token. The answer's `sub` must be the ID token's (§5.3.2), or it is about
 * someone else.
 *
 * @example
 * ```ts
 * const who = await userinfoIdentity(metadata, accessToken, fromIdToken.subject);
 * ```
 */
export async function userinfoIdentity(
  metadata: ProviderMetadata,
  accessToken: string,
  subject: string,
): Promise<ProviderIdentity> {
  if (!metadata.userinfoEndpoint) return { subject, email: undefined, emailVerified: false };
  const claims = await providerJson('userinfo endpoint', metadata.userinfoEndpoint, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (!isRecord(claims) || claims.sub !== subject)
    throw new ProviderError('userinfo endpoint: sub does not match the ID token');
  return identityFromClaims(subject, claims);
}
