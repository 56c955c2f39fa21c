import { type ProviderIdentity, plausibleEmail } from './id-token.js';
import type { OAuthProvider } from './provider-config.js';
import { isRecord, ProviderError, providerJson } from './provider-http.js';

type GitHub = Extract<OAuthProvider, { kind: 'github' }>;

const apiHeaders = (accessToken: string) => ({
  accept: 'application/vnd.github+json',
  authorization: `Bearer ${accessToken}`,
  'x-github-api-version': '2022-11-28',
  // GitHub's API refuses requests without a User-Agent.
  'user-agent': 'plinth-server',
});

/**
 * Trades GitHub's code for an access token. GitHub is OAuth 2.0 without OpenID Connect: no ID
 * token, and errors come back as a 200 whose body has `error`.
 *
 * @example
 * ```ts
 * const accessToken = await exchangeGithubCode(provider, { code, redirectUri, codeVerifier });
 * ```
 */
export async function exchangeGithubCode(
  provider: GitHub,
  grant: { code: string; redirectUri: string; codeVerifier: string },
): Promise<string> {
  const answer = await providerJson('GitHub token endpoint', provider.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
      code: grant.code,
      redirect_uri: grant.redirectUri,
      code_verifier: grant.codeVerifier,
    }).toString(),
  });
  if (!isRecord(answer) || typeof answer.access_token !== 'string') {
    const code = isRecord(answer) && typeof answer.error === 'string' ? `: ${answer.error.slice(0, 64)}` : '';
    throw new ProviderError(`GitHub token endpoint: no access_token${code}`);
  }
  return answer.access_token;
}

/**
 * Who signed in on GitHub: the numeric user id as the subject (logins can be renamed and reused),
 * and the primary email from the emails API with GitHub's own `verified` flag. The profile's
 * `email` field is not used: it is the public email the user chose to show, and says nothing
 * about verification.
 *
 * @example
 * ```ts
 * const who = await githubIdentity(provider, accessToken); // { subject: '583231', email, emailVerified }
 * ```
 */
export async function githubIdentity(provider: GitHub, accessToken: string): Promise<ProviderIdentity> {
  const user = await providerJson('GitHub user API', `${provider.apiBaseUrl}/user`, {
    headers: apiHeaders(accessToken),
  });
  if (!isRecord(user) || typeof user.id !== 'number' || !Number.isSafeInteger(user.id))
    throw new ProviderError('GitHub user API: the answer has no numeric id');
  const emails = await providerJson('GitHub emails API', `${provider.apiBaseUrl}/user/emails`, {
    headers: apiHeaders(accessToken),
  });
  if (!Array.isArray(emails)) throw new ProviderError('GitHub emails API: the answer is not a list');
  const primary = emails.find((entry) => isRecord(entry) && entry.primary === true) as
    | Record<string, unknown>
    | undefined;
  const email = plausibleEmail(primary?.email);
  return { subject: String(user.id), email, emailVerified: email !== undefined && primary?.verified === true };
}
