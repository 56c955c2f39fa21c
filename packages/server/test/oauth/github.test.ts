import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { codeChallengeS256 } from '../../src/auth/pkce.js';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { createTestBrowser } from '../fixtures/test-browser.js';
import { useTestServer } from '../fixtures/test-server.js';

// The GitHub preset against a stand-in GitHub Enterprise Server (`issuer` is its base URL): OAuth
// 2.0 without OpenID Connect, so the server asks the user and emails APIs who signed in.

interface FakeUser {
  id: number;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

const clientSecret = 'gh-secret';
let nextUser: FakeUser = { id: 1, emails: [] };
const codes = new Map<string, { challenge: string; user: FakeUser; redirectUri: string }>();
const tokens = new Map<string, FakeUser>();
const tokenRequests: URLSearchParams[] = [];
let refuseNextCode = false;

const body = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => resolve(text));
  });

const github = createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://x');
  const json = (status: number, value: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(value));
  };
  if (url.pathname === '/login/oauth/authorize') {
    // The user approves at once.
    const code = randomBytes(10).toString('hex');
    codes.set(code, {
      challenge: url.searchParams.get('code_challenge') ?? '',
      user: nextUser,
      redirectUri: url.searchParams.get('redirect_uri') ?? '',
    });
    const back = new URL(url.searchParams.get('redirect_uri') ?? '');
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state') ?? '');
    response.writeHead(302, { location: back.href });
    response.end();
    return;
  }
  if (url.pathname === '/login/oauth/access_token' && request.method === 'POST') {
    const form = new URLSearchParams(await body(request));
    tokenRequests.push(form);
    const grant = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const verifier = form.get('code_verifier') ?? '';
    // GitHub answers errors with a 200 and an `error` field.
    if (
      refuseNextCode ||
      !grant ||
      form.get('client_secret') !== clientSecret ||
      form.get('redirect_uri') !== grant.redirectUri ||
      createHash('sha256').update(verifier).digest('base64url') !== grant.challenge
    ) {
      refuseNextCode = false;
      json(200, { error: 'bad_verification_code' });
      return;
    }
    const token = `gho_${randomBytes(10).toString('hex')}`;
    tokens.set(token, grant.user);
    json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    return;
  }
  const auth = request.headers.authorization ?? '';
  const user = tokens.get(auth.replace(/^Bearer /, ''));
  if (!user || request.headers['user-agent'] === undefined) return json(401, { message: 'Bad credentials' });
  // The profile's public email says nothing about verification; the server must not use it.
  if (url.pathname === '/api/v3/user')
    return json(200, { id: user.id, login: `user${user.id}`, email: 'public@elsewhere.example' });
  if (url.pathname === '/api/v3/user/emails') return json(200, user.emails);
  json(404, { message: 'Not Found' });
});
await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
afterAll(
  () =>
    new Promise<void>((resolve) => {
      github.closeAllConnections();
      github.close(() => resolve());
    }),
);

const appCallback = 'https://app.example.com/callback';
const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
  oauth: {
    redirectUrls: [appCallback],
    providers: { github: { preset: 'github', issuer: base, clientId: 'gh-client', clientSecret } },
  },
});
const call = jsonClient(() => server().url);

async function signInWithGitHub(user: FakeUser) {
  nextUser = user;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    redirectTo: appCallback,
    codeChallenge: codeChallengeS256(verifier),
    codeChallengeMethod: 'S256',
    state,
  });
  const landing = await createTestBrowser().navigate(
    `${server().url}/v1/auth/oauth/github/authorize?${query}`,
    (url) => url.origin === 'https://app.example.com',
  );
  if (landing.kind !== 'stopped') throw new Error(`ended at ${landing.url} with ${landing.status}: ${landing.body}`);
  expect(landing.url.searchParams.get('state')).toBe(state);
  return { query: landing.url.searchParams, verifier };
}

describe('the GitHub preset', () => {
  it('signs in with the primary verified email from the emails API, the numeric id as subject', async () => {
    const { query, verifier } = await signInWithGitHub({
      id: 583231,
      emails: [
        { email: 'old@octo.example', primary: false, verified: true },
        { email: 'octo@octo.example', primary: true, verified: true },
      ],
    });
    const answer = await call('POST', '/v1/auth/oauth/token', { code: query.get('code'), codeVerifier: verifier });
    expect(answer.status).toBe(200);
    expect(answer.body?.user).toMatchObject({ email: 'octo@octo.example', emailVerified: true });
    const rows = await server().services.database.query(
      'SELECT provider, subject, email FROM plinth.identities WHERE user_id = $1',
      [answer.body?.user.id],
    );
    expect(rows).toEqual([{ provider: 'github', subject: '583231', email: 'octo@octo.example' }]);
    // The server used its own PKCE verifier and the callback as redirect_uri at GitHub's token endpoint.
    const form = tokenRequests.at(-1);
    expect(form?.get('redirect_uri')).toBe(`${server().url}/v1/auth/oauth/github/callback`);
    expect(form?.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(form?.get('code_verifier')).not.toBe(verifier);
  });

  it('a primary email GitHub has not verified makes no account', async () => {
    const { query } = await signInWithGitHub({
      id: 77,
      emails: [{ email: 'fresh@octo.example', primary: true, verified: false }],
    });
    expect(query.get('error')).toBe('email_unverified');
    expect(query.get('code')).toBeNull();
  });

  it('a token endpoint error (GitHub refuses the code) → back to the app with error=provider_error', async () => {
    refuseNextCode = true;
    const { query } = await signInWithGitHub({
      id: 9,
      emails: [{ email: 'x@octo.example', primary: true, verified: true }],
    });
    expect(query.get('error')).toBe('provider_error');
    expect(query.get('code')).toBeNull();
    expect(await server().services.database.query(`SELECT 1 FROM plinth.users WHERE email = 'x@octo.example'`)).toEqual(
      [],
    );
  });
});
