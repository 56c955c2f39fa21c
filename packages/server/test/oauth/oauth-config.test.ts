import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { ConfigError, readConfig } from '../../src/config.js';
import { createDiscovery, parseProviderMetadata } from '../../src/oauth/discovery.js';
import { createOAuthService } from '../../src/oauth/oauth-service.js';
import { redirectUrlProblem, resolveOAuthProviders } from '../../src/oauth/provider-config.js';
import { ProviderError } from '../../src/oauth/provider-http.js';
import { startServer } from '../../src/start-server.js';
import { useTestServer } from '../fixtures/test-server.js';

const client = { clientId: 'id', clientSecret: 'secret' };

describe('redirect URLs for the allow-list', () => {
  it.each([
    'https://app.example.com/callback',
    'http://localhost:5173/callback',
    'http://127.0.0.1:3000/cb',
    'com.example.app:/oauth',
  ])('accepts %s', (url) => {
    expect(redirectUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ['javascript:alert(1)', /javascript/],
    ['data:text/html,hi', /data/],
    ['http://app.example.com/callback', /https/],
    ['https://app.example.com/callback#frag', /fragment/],
    ['/relative/callback', /absolute/],
    ['https://user:pass@app.example.com/cb', /credentials/],
  ])('refuses %s', (url, problem) => {
    expect(redirectUrlProblem(url)).toMatch(problem);
  });
});

describe('resolveOAuthProviders', () => {
  it('github preset: github.com and its API host, or a GitHub Enterprise Server base', () => {
    const providers = resolveOAuthProviders({
      redirectUrls: [],
      providers: {
        github: { preset: 'github', ...client },
        ghe: { preset: 'github', issuer: 'https://ghe.example.com/', ...client },
      },
    });
    expect(providers.get('github')).toMatchObject({
      kind: 'github',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      apiBaseUrl: 'https://api.github.com',
    });
    expect(providers.get('ghe')).toMatchObject({ apiBaseUrl: 'https://ghe.example.com/api/v3' });
  });

  it('google preset: Google’s issuer, and its bare host accepted as an ID token `iss`', () => {
    const providers = resolveOAuthProviders({
      redirectUrls: [],
      providers: { google: { preset: 'google', ...client } },
    });
    expect(providers.get('google')).toMatchObject({
      kind: 'oidc',
      issuer: 'https://accounts.google.com',
      idTokenIssuers: ['https://accounts.google.com', 'accounts.google.com'],
    });
  });

  it('keeps an issuer exactly as given (an ID token’s iss must match it to the slash)', () => {
    const providers = resolveOAuthProviders({
      redirectUrls: [],
      providers: { auth0: { issuer: 'https://tenant.auth0.com/', ...client } },
    });
    expect(providers.get('auth0')).toMatchObject({ issuer: 'https://tenant.auth0.com/' });
  });

  it.each([
    [{ acme: { ...client } }, /^oauth\.providers\.acme\.issuer: required/],
    [{ acme: { issuer: 'http://idp.example.com', ...client } }, /^oauth\.providers\.acme\.issuer: must use https/],
    [{ acme: { issuer: 'https://idp.example.com', clientId: 'id', clientSecret: '' } }, /clientSecret: required/],
    [{ 'Bad Name': { preset: 'github' as const, ...client } }, /^oauth\.providers\.Bad Name: a provider name/],
  ])('refuses a mistake, naming the setting (%#)', (providers, message) => {
    expect(() => resolveOAuthProviders({ redirectUrls: [], providers })).toThrow(message);
  });

  it('refuses a bad redirect URL, naming its index', () => {
    expect(() =>
      resolveOAuthProviders({ redirectUrls: ['https://ok.example/cb', 'javascript:x'], providers: {} }),
    ).toThrow(/^oauth\.redirectUrls\[1\]: /);
  });
});

describe('startServer', () => {
  it('refuses bad OAuth settings and a bad public URL, naming the setting', async () => {
    const base = { database: 'memory', logLevel: 'silent' };
    await expect(startServer({ ...base, oauth: { redirectUrls: ['javascript:x'], providers: {} } })).rejects.toThrow(
      /^oauth\.redirectUrls\[0\]: /,
    );
    await expect(startServer({ ...base, publicUrl: 'http://api.example.com' })).rejects.toThrow(
      /^publicUrl: must use https/,
    );
  });
});

describe('the OAuth service', () => {
  it('without settings refuses every redirect and knows no provider, prototype names included', () => {
    const oauth = createOAuthService(undefined, () => 'http://127.0.0.1:1');
    expect(oauth.isAllowedRedirect('https://app.example.com/callback')).toBe(false);
    for (const name of ['github', 'constructor', '__proto__', 'toString']) expect(oauth.provider(name)).toBeUndefined();
  });
});

describe('discovery', () => {
  const document = {
    issuer: 'https://idp.example.com',
    authorization_endpoint: 'https://idp.example.com/authorize',
    token_endpoint: 'https://idp.example.com/token',
    jwks_uri: 'https://idp.example.com/jwks',
  };

  it('reads the endpoints; client_secret_basic unless the provider says otherwise', () => {
    expect(parseProviderMetadata('https://idp.example.com', document)).toMatchObject({
      tokenEndpoint: 'https://idp.example.com/token',
      tokenEndpointAuth: 'client_secret_basic',
      userinfoEndpoint: undefined,
    });
    expect(
      parseProviderMetadata('https://idp.example.com', {
        ...document,
        token_endpoint_auth_methods_supported: ['client_secret_post'],
      }).tokenEndpointAuth,
    ).toBe('client_secret_post');
  });

  it.each([
    ['another issuer in the document', { ...document, issuer: 'https://evil.example' }, /issuer/],
    ['an endpoint over http', { ...document, token_endpoint: 'http://idp.example.com/token' }, /https/],
    ['no S256', { ...document, code_challenge_methods_supported: ['plain'] }, /S256/],
    [
      'no secret-based client auth',
      { ...document, token_endpoint_auth_methods_supported: ['private_key_jwt'] },
      /client_secret/,
    ],
    ['no jwks_uri', { ...document, jwks_uri: undefined }, /jwks_uri/],
  ])('refuses %s', (_what, doc, message) => {
    expect(() => parseProviderMetadata('https://idp.example.com', doc)).toThrow(message);
    expect(() => parseProviderMetadata('https://idp.example.com', doc)).toThrow(ProviderError);
  });

  it('caches a document, and does not cache a failure', async () => {
    let requests = 0;
    const idp = createServer((_request, response) => {
      requests++;
      if (requests === 1) {
        response.writeHead(500).end();
        return;
      }
      const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          ...document,
          issuer,
          jwks_uri: `${issuer}/jwks`,
          token_endpoint: `${issuer}/token`,
          authorization_endpoint: `${issuer}/auth`,
        }),
      );
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    try {
      const discover = createDiscovery();
      await expect(discover(issuer)).rejects.toThrow(/HTTP 500/);
      expect((await discover(issuer)).tokenEndpoint).toBe(`${issuer}/token`);
      await discover(issuer);
      expect(requests).toBe(2);
    } finally {
      idp.closeAllConnections();
      await new Promise((resolve) => idp.close(resolve));
    }
  });
});

describe('configuration from the environment', () => {
  it('reads redirect URLs, the public URL and providers; GITHUB and GOOGLE imply their presets', () => {
    const config = readConfig({
      PLINTH_PUBLIC_URL: 'https://api.example.com',
      PLINTH_OAUTH_REDIRECT_URLS: 'https://app.example.com/callback, com.example.app:/oauth',
      PLINTH_OAUTH_GITHUB_CLIENT_ID: 'gh-id',
      PLINTH_OAUTH_GITHUB_CLIENT_SECRET: 'gh-secret',
      PLINTH_OAUTH_MY_IDP_ISSUER: 'https://idp.example.com',
      PLINTH_OAUTH_MY_IDP_CLIENT_ID: 'idp-id',
      PLINTH_OAUTH_MY_IDP_CLIENT_SECRET: 'idp-secret',
    });
    expect(config.publicUrl).toBe('https://api.example.com');
    expect(config.oauth).toEqual({
      redirectUrls: ['https://app.example.com/callback', 'com.example.app:/oauth'],
      providers: {
        github: { clientId: 'gh-id', clientSecret: 'gh-secret', preset: 'github' },
        my_idp: { clientId: 'idp-id', clientSecret: 'idp-secret', issuer: 'https://idp.example.com' },
      },
    });
    expect(readConfig({}).oauth).toBeUndefined();
  });

  it.each([
    [{ PLINTH_OAUTH_REDIRECT_URLS: 'https://ok.example/cb,javascript:alert(1)' }, 'PLINTH_OAUTH_REDIRECT_URLS'],
    [{ PLINTH_OAUTH_REDIRECT_URLS: 'http://app.example.com/cb' }, 'PLINTH_OAUTH_REDIRECT_URLS'],
    [{ PLINTH_OAUTH_ACME_CLIENT_ID: 'id' }, 'PLINTH_OAUTH_ACME_CLIENT_SECRET'],
    [{ PLINTH_OAUTH_ACME_CLIENT_SECRET: 'secret' }, 'PLINTH_OAUTH_ACME_CLIENT_ID'],
    [{ PLINTH_OAUTH_ACME_CLIENT_ID: 'id', PLINTH_OAUTH_ACME_CLIENT_SECRET: 's' }, 'PLINTH_OAUTH_ACME_ISSUER'],
    [
      {
        PLINTH_OAUTH_ACME_ISSUER: 'http://idp.example.com',
        PLINTH_OAUTH_ACME_CLIENT_ID: 'id',
        PLINTH_OAUTH_ACME_CLIENT_SECRET: 's',
      },
      'PLINTH_OAUTH_ACME_ISSUER',
    ],
    [
      { PLINTH_OAUTH_ACME_PRESET: 'facebook', PLINTH_OAUTH_ACME_CLIENT_ID: 'id', PLINTH_OAUTH_ACME_CLIENT_SECRET: 's' },
      'PLINTH_OAUTH_ACME_PRESET',
    ],
    [{ PLINTH_PUBLIC_URL: 'ftp://api.example.com' }, 'PLINTH_PUBLIC_URL'],
  ])('a bad value is a ConfigError naming the variable (%#)', (env, variable) => {
    let thrown: unknown;
    try {
      readConfig(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
  });

  it('plinth start stops with one line naming the variable, exit 2', async () => {
    const err: string[] = [];
    const code = await runCli(['start'], {
      stdout: () => {},
      stderr: (line) => err.push(line),
      env: { PLINTH_OAUTH_ACME_CLIENT_ID: 'id', PLINTH_OAUTH_ACME_CLIENT_SECRET: 's' },
      cwd: '/nonexistent',
      stopSignal: new Promise(() => {}),
    });
    expect(code).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^plinth: PLINTH_OAUTH_ACME_ISSUER: required/)]);
  });
});

describe('a server with providers but no redirect URLs, and a public URL', () => {
  const server = useTestServer({
    publicUrl: 'https://api.example.com',
    // Nothing listens at this issuer: nothing below may call it.
    oauth: { redirectUrls: [], providers: { github: { preset: 'github', issuer: 'http://127.0.0.1:9', ...client } } },
  });
  const authorize = (redirectTo: string) =>
    fetch(
      `${server().url}/v1/auth/oauth/github/authorize?${new URLSearchParams({
        redirectTo,
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        codeChallengeMethod: 'S256',
        state: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      })}`,
      { redirect: 'manual' },
    );

  it('refuses every authorize with a 400 naming redirectTo', async () => {
    const response = await authorize('https://app.example.com/callback');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'validation_failed', details: { field: 'redirectTo' } },
    });
  });
});

describe('the callback URL given to providers', () => {
  const server = useTestServer({
    publicUrl: 'https://api.example.com',
    oauth: {
      redirectUrls: ['https://app.example.com/callback'],
      providers: {
        github: { preset: 'github', issuer: 'http://127.0.0.1:9', ...client },
        // An OpenID Connect issuer nobody answers at.
        down: { issuer: 'http://127.0.0.1:9', ...client },
      },
    },
  });
  const authorize = (provider: string) =>
    fetch(
      `${server().url}/v1/auth/oauth/${provider}/authorize?${new URLSearchParams({
        redirectTo: 'https://app.example.com/callback',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        codeChallengeMethod: 'S256',
        state: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      })}`,
      { redirect: 'manual' },
    );

  it('a provider whose discovery cannot be read → 503, no flow stored', async () => {
    const response = await authorize('down');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      error: { code: 'service_unavailable', message: expect.stringContaining('"down"') },
    });
    expect(await server().services.database.query('SELECT 1 FROM plinth.oauth_flows')).toEqual([]);
  });

  it('is built on the public URL, not the address the server listens on', async () => {
    const response = await authorize('github');
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:9/login/oauth/authorize');
    expect(location.searchParams.get('redirect_uri')).toBe('https://api.example.com/v1/auth/oauth/github/callback');
    expect(location.searchParams.get('scope')).toBe('read:user user:email');
    expect(location.searchParams.get('nonce')).toBeNull();
    // The binding cookie: HttpOnly, SameSite=Lax, __Host- (Secure, Path=/), as long as the flow.
    const cookie = response.headers.getSetCookie()[0] ?? '';
    expect(cookie).toMatch(
      /^__Host-plinth-oauth-[0-9a-f]{16}=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=600$/,
    );
  });
});
