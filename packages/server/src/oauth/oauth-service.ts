import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { createDiscovery } from './discovery.js';
import { exchangeGithubCode, githubIdentity } from './github.js';
import { type ProviderIdentity, verifyIdToken } from './id-token.js';
import { authorizationUrl, exchangeOidcCode, userinfoIdentity } from './oidc-client.js';
import {
  githubScope,
  type OAuthOptions,
  type OAuthProvider,
  OAuthSettingsError,
  oidcScope,
  resolveOAuthProviders,
  serverUrlProblem,
} from './provider-config.js';
import { ProviderError } from './provider-http.js';

/** What the OAuth handlers use: the configured providers and the calls to them. */
export interface OAuthService {
  /** The provider of that name, if configured. */
  provider(name: string): OAuthProvider | undefined;
  /** Whether `redirectTo` is on the allow-list: the exact string, nothing looser. */
  isAllowedRedirect(redirectTo: string): boolean;
  /** The callback URL registered with the provider. */
  callbackUrl(provider: OAuthProvider): string;
  /** Where to send the browser: the provider's authorization endpoint with the server's leg. */
  authorizationUrl(
    provider: OAuthProvider,
    leg: { state: string; codeChallenge: string; nonce: string },
  ): Promise<string>;
  /**
   * Finishes the provider's leg at the callback: checks RFC 9207's `iss` when the provider sends
   * it, trades the code with the server's verifier, verifies the ID token (or asks GitHub's API),
   * and says who signed in. Throws {@link ProviderError} on anything untrustworthy.
   */
  identify(
    provider: OAuthProvider,
    callback: { code: string; codeVerifier: string; nonce: string; iss: string | undefined },
  ): Promise<ProviderIdentity>;
}

/**
 * The OAuth service over checked settings. `publicUrl` is read per request: the server's own URL
 * is known only once it listens. Discovery documents are cached per issuer, JWKS per URI.
 *
 * @example
 * ```ts
 * const oauth = createOAuthService({ redirectUrls: [...], providers: { google: { preset: 'google', clientId, clientSecret } } }, () => publicUrl);
 * ```
 */
export function createOAuthService(options: OAuthOptions | undefined, publicUrl: () => string): OAuthService {
  const settings = options ?? { redirectUrls: [], providers: {} };
  const providers = resolveOAuthProviders(settings);
  const redirectUrls = new Set(settings.redirectUrls);
  const discover = createDiscovery();
  const jwks = new Map<string, JWTVerifyGetKey>();
  const keysAt = (uri: string) => {
    let keys = jwks.get(uri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(uri), { timeoutDuration: 10_000 });
      jwks.set(uri, keys);
    }
    return keys;
  };

  const callbackUrl = (provider: OAuthProvider) => {
    const base = settings.callbackBaseUrl ?? publicUrl();
    return `${base.replace(/\/$/, '')}/v1/auth/oauth/${provider.name}/callback`;
  };

  return {
    provider: (name) => providers.get(name),
    isAllowedRedirect: (redirectTo) => redirectUrls.has(redirectTo),
    callbackUrl,

    async authorizationUrl(provider, leg) {
      const redirectUri = callbackUrl(provider);
      if (provider.kind === 'github') {
        // No OpenID Connect, so no nonce; GitHub takes PKCE S256.
        return authorizationUrl(provider.authorizationEndpoint, provider, githubScope, {
          ...leg,
          nonce: '',
          redirectUri,
        });
      }
      const metadata = await discover(provider.issuer);
      return authorizationUrl(metadata.authorizationEndpoint, provider, oidcScope, { ...leg, redirectUri });
    },

    async identify(provider, callback) {
      const grant = { code: callback.code, redirectUri: callbackUrl(provider), codeVerifier: callback.codeVerifier };
      if (provider.kind === 'github') return githubIdentity(provider, await exchangeGithubCode(provider, grant));
      const metadata = await discover(provider.issuer);
      // RFC 9207: an answer from another issuer (a mix-up attack) is refused before its code is used.
      if (callback.iss !== undefined ? callback.iss !== metadata.issuer : metadata.issInAuthorizationResponse)
        throw new ProviderError('callback: iss is missing or names another issuer');
      const tokens = await exchangeOidcCode(metadata, provider, grant);
      const fromIdToken = await verifyIdToken(tokens.idToken, {
        issuers: provider.idTokenIssuers,
        clientId: provider.clientId,
        nonce: callback.nonce,
        keys: keysAt(metadata.jwksUri),
      });
      // Some providers keep the email out of the ID token and in the userinfo answer.
      if (fromIdToken.email !== undefined) return fromIdToken;
      return userinfoIdentity(metadata, tokens.accessToken, fromIdToken.subject);
    },
  };
}

/**
 * Checks the server's public URL (`publicUrl`, `PLINTH_PUBLIC_URL`): what providers redirect to.
 *
 * @example
 * ```ts
 * assertPublicUrl('https://api.example.com');
 * ```
 */
export function assertPublicUrl(url: string): void {
  const problem = serverUrlProblem(url);
  if (problem) throw new OAuthSettingsError('publicUrl', `${problem}.`);
}
