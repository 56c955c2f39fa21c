/** One OAuth provider as an operator configures it (`startServer({ oauth })` or the environment). */
export interface OAuthProviderOptions {
  /**
   * The OpenID Connect issuer; its discovery document is read from
   * `${issuer}/.well-known/openid-configuration`. With `preset: 'github'`, the base URL of a
   * GitHub Enterprise Server instead (default `https://github.com`); with `preset: 'google'`,
   * default `https://accounts.google.com`.
   */
  issuer?: string;
  clientId: string;
  clientSecret: string;
  /** `github` (OAuth 2.0, not OpenID Connect: the user and emails API) or `google`. */
  preset?: 'github' | 'google';
}

/** OAuth sign-in settings. */
export interface OAuthOptions {
  /**
   * The app URLs a sign-in may return to (`redirectTo`), compared as exact strings. Empty (the
   * default): every sign-in is refused.
   */
  redirectUrls: readonly string[];
  /** Providers by the name in the route (`/v1/auth/oauth/:provider/…`): `[a-z0-9_-]{1,64}`. */
  providers: Readonly<Record<string, OAuthProviderOptions>>;
  /**
   * The base of the callback URL registered with each provider
   * (`${callbackBaseUrl}/v1/auth/oauth/${name}/callback`). Default: the server's public URL.
   */
  callbackBaseUrl?: string;
}

/** The scope asked of an OpenID Connect provider. */
export const oidcScope = 'openid email profile';
/** The scope asked of GitHub: the profile and the email addresses, nothing else. */
export const githubScope = 'read:user user:email';

/** A provider ready to use: an OpenID Connect issuer, or GitHub's OAuth 2.0 endpoints. */
export type OAuthProvider =
  | {
      readonly kind: 'oidc';
      readonly name: string;
      readonly issuer: string;
      /** `iss` values accepted in ID tokens: the issuer, and Google's historical bare host. */
      readonly idTokenIssuers: readonly string[];
      readonly clientId: string;
      readonly clientSecret: string;
    }
  | {
      readonly kind: 'github';
      readonly name: string;
      readonly authorizationEndpoint: string;
      readonly tokenEndpoint: string;
      readonly apiBaseUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
    };

const providerNamePattern = /^[a-z0-9_-]{1,64}$/;
const githubBase = 'https://github.com';
const googleIssuer = 'https://accounts.google.com';

/** Whether a URL's host is this machine, where plain http is acceptable (development, tests). */
export function isLoopbackUrl(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/**
 * What is wrong with a URL the server calls or sends browsers to (an issuer, a provider
 * endpoint, the public URL), or undefined: https, or http on a loopback host; no credentials,
 * query or fragment.
 *
 * @example
 * ```ts
 * serverUrlProblem('https://accounts.google.com'); // undefined
 * serverUrlProblem('http://idp.example.com'); // 'must use https (http only on localhost)'
 * ```
 */
export function serverUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url)))
    return 'must use https (http only on localhost)';
  if (url.username || url.password || url.search || url.hash)
    return 'must not carry credentials, a query or a fragment';
  return undefined;
}

// Schemes that run code or read files where a browser lands; never a place to send a code.
const forbiddenSchemes = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);

/**
 * What is wrong with an app redirect URL for the allow-list, or undefined: https; http only on a
 * loopback host; or a native app's private scheme (RFC 8252 §7.1). Never a fragment (RFC 6749
 * §3.1.2) or a scheme that runs code.
 *
 * @example
 * ```ts
 * redirectUrlProblem('https://app.example.com/callback'); // undefined
 * redirectUrlProblem('com.example.app:/oauth'); // undefined
 * redirectUrlProblem('https://app.example.com/cb#x'); // 'must not have a fragment'
 * ```
 */
export function redirectUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (forbiddenSchemes.has(url.protocol)) return `must not use the ${url.protocol} scheme`;
  if (url.protocol === 'http:' && !isLoopbackUrl(url)) return 'must use https (http only on localhost)';
  if (raw.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not carry credentials';
  return undefined;
}

/** A configuration mistake in OAuth settings, naming the setting (`oauth.providers.github.clientId`). */
export class OAuthSettingsError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'OAuthSettingsError';
  }
}

/**
 * Checks OAuth settings and turns each provider into one ready to use. Throws
 * {@link OAuthSettingsError} naming the setting at fault, so a typo stops the start rather than
 * the first sign-in.
 *
 * @example
 * ```ts
 * const providers = resolveOAuthProviders({
 *   redirectUrls: ['https://app.example.com/callback'],
 *   providers: { github: { preset: 'github', clientId: 'Iv1.…', clientSecret: '…' } },
 * });
 * providers.get('github')?.kind; // 'github'
 * ```
 */
export function resolveOAuthProviders(options: OAuthOptions): Map<string, OAuthProvider> {
  options.redirectUrls.forEach((url, index) => {
    const problem = redirectUrlProblem(url);
    if (problem) throw new OAuthSettingsError(`oauth.redirectUrls[${index}]`, `${JSON.stringify(url)} ${problem}.`);
  });
  if (options.callbackBaseUrl !== undefined) {
    const problem = serverUrlProblem(options.callbackBaseUrl);
    if (problem) throw new OAuthSettingsError('oauth.callbackBaseUrl', `${problem}.`);
  }
  const providers = new Map<string, OAuthProvider>();
  for (const [name, settings] of Object.entries(options.providers)) {
    const at = `oauth.providers.${name}`;
    if (!providerNamePattern.test(name))
      throw new OAuthSettingsError(at, 'a provider name is 1 to 64 characters of a-z, 0-9, _ and -.');
    if (!settings.clientId) throw new OAuthSettingsError(`${at}.clientId`, 'required.');
    if (!settings.clientSecret) throw new OAuthSettingsError(`${at}.clientSecret`, 'required.');
    if (settings.preset !== undefined && settings.preset !== 'github' && settings.preset !== 'google')
      throw new OAuthSettingsError(`${at}.preset`, 'must be github or google.');
    // Kept as given: an ID token's `iss` must equal the issuer exactly, trailing slash and all
    // (Auth0's has one).
    const issuer =
      settings.issuer ?? (settings.preset === 'github' ? githubBase : settings.preset === 'google' ? googleIssuer : '');
    if (!issuer)
      throw new OAuthSettingsError(`${at}.issuer`, 'required (the OpenID Connect issuer URL) without a preset.');
    const problem = serverUrlProblem(issuer);
    if (problem) throw new OAuthSettingsError(`${at}.issuer`, `${problem}.`);
    const { clientId, clientSecret } = settings;
    if (settings.preset === 'github') {
      const base = issuer.replace(/\/$/, '');
      providers.set(name, {
        kind: 'github',
        name,
        authorizationEndpoint: `${base}/login/oauth/authorize`,
        tokenEndpoint: `${base}/login/oauth/access_token`,
        // github.com's API lives on its own host; GitHub Enterprise Server's under /api/v3.
        apiBaseUrl: base === githubBase ? 'https://api.github.com' : `${base}/api/v3`,
        clientId,
        clientSecret,
      });
    } else {
      // Google's ID tokens may carry `iss` without the scheme (its OpenID Connect docs).
      const idTokenIssuers = issuer === googleIssuer ? [issuer, 'accounts.google.com'] : [issuer];
      providers.set(name, { kind: 'oidc', name, issuer, idTokenIssuers, clientId, clientSecret });
    }
  }
  return providers;
}
