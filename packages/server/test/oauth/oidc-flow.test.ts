import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeChallengeS256 } from '../../src/auth/pkce.js';
import { defaultRateRules } from '../../src/features.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { jsonClient, tokenFromMail } from '../fixtures/auth-helpers.js';
import { listenTestProvider, type TestAccount } from '../fixtures/oidc-test-provider.js';
import { createTestBrowser, type Landing } from '../fixtures/test-browser.js';
import { useTestServer } from '../fixtures/test-server.js';

// OAuth sign-in end to end against a real OpenID Provider (oidc-provider, in this process): the
// browser goes app → Plinth authorize → provider login and consent → Plinth callback → app, and
// the app exchanges Plinth's code with its PKCE verifier.

const appCallback = 'https://app.example.com/callback';
const idp = await listenTestProvider();
// A second provider that puts the email in the ID token (most real ones do); the first keeps it
// in userinfo, oidc-provider's conformant default.
const idpWithClaims = await listenTestProvider({ claimsInIdToken: true });
afterAll(() => Promise.all([idp.close(), idpWithClaims.close()]));
const outbox = createOutboxMailer(createLogger('silent'));
const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  mailer: outbox,
  // Sign-up needs an app origin for its verification link.
  corsOrigins: ['http://localhost:5173'],
  // Limits lifted: many sign-ins from one IP, and Redis buckets are shared across files and runs.
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
  oauth: {
    redirectUrls: [appCallback, 'com.example.app:/oauth'],
    providers: {
      test: { issuer: idp.issuer, clientId: 'plinth', clientSecret: 'plinth-secret' },
      // The same provider, but a client whose ID tokens are signed with PS256: not on the allow-list.
      'test-ps': { issuer: idp.issuer, clientId: 'plinth-ps256', clientSecret: 'plinth-ps256-secret' },
      'test-idt': { issuer: idpWithClaims.issuer, clientId: 'plinth-idt', clientSecret: 'plinth-idt-secret' },
    },
  },
});
beforeAll(() =>
  idpWithClaims.start([
    {
      client_id: 'plinth-idt',
      client_secret: 'plinth-idt-secret',
      redirect_uris: [`${server().url}/v1/auth/oauth/test-idt/callback`],
    },
  ]),
);
beforeAll(() =>
  idp.start([
    {
      client_id: 'plinth',
      client_secret: 'plinth-secret',
      redirect_uris: [`${server().url}/v1/auth/oauth/test/callback`],
    },
    {
      client_id: 'plinth-ps256',
      client_secret: 'plinth-ps256-secret',
      redirect_uris: [`${server().url}/v1/auth/oauth/test-ps/callback`],
      id_token_signed_response_alg: 'PS256',
    },
  ]),
);

const call = jsonClient(() => server().url);
const db = () => server().services.database;
const random = () => randomBytes(32).toString('base64url');
const atApp = (url: URL) => url.origin === 'https://app.example.com';
const atCallback = (url: URL) => url.pathname.endsWith('/callback') && url.origin === server().url;

function authorizeUrl(query: {
  provider?: string;
  redirectTo?: string;
  codeChallenge: string;
  state: string;
  method?: string;
}): string {
  const params = new URLSearchParams({
    redirectTo: query.redirectTo ?? appCallback,
    codeChallenge: query.codeChallenge,
    codeChallengeMethod: query.method ?? 'S256',
    state: query.state,
  });
  return `${server().url}/v1/auth/oauth/${query.provider ?? 'test'}/authorize?${params}`;
}

/** The app's side of a sign-in: a fresh verifier and state, and a browser sent to authorize. */
async function startSignIn(account: TestAccount, provider = 'test', stopAt = atApp) {
  (provider === 'test-idt' ? idpWithClaims : idp).signInAs(account);
  const browser = createTestBrowser();
  const verifier = random();
  const state = random();
  const landing = await browser.navigate(
    authorizeUrl({ provider, codeChallenge: codeChallengeS256(verifier), state }),
    stopAt,
  );
  return { browser, verifier, state, landing };
}

/** The query the app's redirect URL was reached with. */
function appQuery(landing: Landing): URLSearchParams {
  expect(landing.kind, landing.kind === 'answered' ? `${landing.status} ${landing.body}` : '').toBe('stopped');
  expect(`${landing.url.origin}${landing.url.pathname}`).toBe(appCallback);
  return landing.url.searchParams;
}

async function signIn(account: TestAccount, provider = 'test') {
  const started = await startSignIn(account, provider);
  const query = appQuery(started.landing);
  expect(query.get('state')).toBe(started.state);
  return { ...started, code: query.get('code') ?? '' };
}

const exchange = (code: string, codeVerifier: string, mode?: 'cookie' | 'token') =>
  call('POST', '/v1/auth/oauth/token', { code, codeVerifier, ...(mode ? { mode } : {}) });

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function identitiesOf(email: string) {
  return db().query<{ provider: string; subject: string; user_id: string }>(
    `SELECT i.provider, i.subject, i.user_id FROM plinth.identities i JOIN plinth.users u ON u.id = i.user_id
      WHERE lower(u.email) = lower($1)`,
    [email],
  );
}

const password = 'correct horse battery staple';
async function passwordAccount(email: string, verified: boolean): Promise<string> {
  expect((await call('POST', '/v1/auth/sign-up', { email, password })).body).toEqual({ accepted: true });
  // The account is made after the answer; its verification mail says it exists.
  const token = await tokenFromMail(outbox, email, 'verify_email');
  if (verified) expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
  const [row] = await db().query<{ id: string }>('SELECT id FROM plinth.users WHERE lower(email) = lower($1)', [email]);
  return row?.id ?? '';
}

describe('the full flow', () => {
  it('authorize → provider → callback → app with code and state → exchange → a session for a new, verified user', async () => {
    const { code, verifier, browser } = await signIn({ sub: 'ada-1', email: 'ada@oidc.example', email_verified: true });
    expect(code).toMatch(/^oc_[A-Za-z0-9_-]{43}$/);
    // The browser-binding cookie is gone once the flow is used.
    expect([...browser.cookies('127.0.0.1').keys()].filter((name) => name.includes('plinth-oauth'))).toEqual([]);

    const answer = await exchange(code, verifier);
    expect(answer.status).toBe(200);
    expect(answer.body?.user).toMatchObject({ email: 'ada@oidc.example', emailVerified: true });
    const me = await call('GET', '/v1/auth/me', undefined, bearer(answer.body?.session.accessToken));
    expect(me.body?.user).toMatchObject({ id: answer.body?.user.id, email: 'ada@oidc.example' });
    expect(await identitiesOf('ada@oidc.example')).toEqual([
      { provider: 'test', subject: 'ada-1', user_id: answer.body?.user.id },
    ]);
    // An OAuth-only account has no password to sign in with.
    const [row] = await db().query<{ password_hash: string | null }>(
      'SELECT password_hash FROM plinth.users WHERE id = $1',
      [answer.body?.user.id],
    );
    expect(row?.password_hash).toBeNull();
  });

  it('sends the provider its own state, PKCE S256 challenge and nonce, and the callback as redirect_uri', async () => {
    const { landing, state, verifier } = await startSignIn(
      { sub: 'peek-1' },
      'test',
      (url) => url.origin === idp.issuer,
    );
    expect(landing.kind).toBe('stopped');
    const sent = landing.url.searchParams;
    expect(sent.get('redirect_uri')).toBe(`${server().url}/v1/auth/oauth/test/callback`);
    expect(sent.get('scope')).toBe('openid email profile');
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Not the app's: those never leave Plinth.
    expect(sent.get('state')).not.toBe(state);
    expect(sent.get('code_challenge')).not.toBe(codeChallengeS256(verifier));
    // Nothing secret is stored in the clear: the row is keyed by the state's hash.
    const rows = await db().query<{ state_hash: string }>('SELECT state_hash FROM plinth.oauth_flows');
    expect(rows.map((row) => row.state_hash)).not.toContain(sent.get('state'));
  });

  it('takes the email from the ID token when it is there, without asking userinfo', async () => {
    const { code, verifier } = await signIn(
      { sub: 'idt-1', email: 'idt@oidc.example', email_verified: true },
      'test-idt',
    );
    const answer = await exchange(code, verifier);
    expect(answer.body?.user).toMatchObject({ email: 'idt@oidc.example', emailVerified: true });
    expect(idpWithClaims.hits.get('/token')).toBe(1);
    expect(idpWithClaims.hits.get('/me')).toBeUndefined();
    // The other provider keeps the email in userinfo, and it was asked there.
    expect(idp.hits.get('/me')).toBeGreaterThan(0);
  });

  it('a provider email that is not verified makes no account (no pre-account hijacking)', async () => {
    const { landing, state } = await startSignIn({ sub: 'bob-1', email: 'bob@oidc.example', email_verified: false });
    expect(Object.fromEntries(appQuery(landing))).toEqual({ error: 'email_unverified', state });
    const users = await db().query("SELECT 1 FROM plinth.users WHERE email = 'bob@oidc.example'");
    expect(users).toEqual([]);
    expect(await identitiesOf('bob@oidc.example')).toEqual([]);
  });

  it('cookie mode: the session in HttpOnly cookies, no token in the body', async () => {
    const { code, verifier } = await signIn({ sub: 'cookie-1', email: 'cookie@oidc.example', email_verified: true });
    const answer = await exchange(code, verifier, 'cookie');
    expect(answer.status).toBe(200);
    expect(answer.body?.session).toBeNull();
    const cookies = answer.headers.getSetCookie();
    expect(cookies.map((cookie) => cookie.split('=')[0])).toEqual(['__Host-plinth-access', '__Host-plinth-refresh']);
    expect(cookies.every((cookie) => cookie.includes('HttpOnly'))).toBe(true);
  });

  it('signing in again with the same identity finds the same user, even if the provider’s email changed', async () => {
    const first = await signIn({ sub: 'same-1', email: 'same@oidc.example', email_verified: true });
    const firstUser = (await exchange(first.code, first.verifier)).body?.user.id;
    const again = await signIn({ sub: 'same-1', email: 'renamed@oidc.example', email_verified: true });
    const answer = await exchange(again.code, again.verifier);
    expect(answer.body?.user).toMatchObject({ id: firstUser, email: 'same@oidc.example' });
  });

  it('reads the discovery document once and reuses it', async () => {
    await signIn({ sub: 'cache-1', email: 'cache@oidc.example', email_verified: true });
    await signIn({ sub: 'cache-2', email: 'cache2@oidc.example', email_verified: true });
    expect(idp.hits.get('/.well-known/openid-configuration')).toBe(1);
  });
});

describe('the code exchange', () => {
  it('a wrong code verifier is refused, and leaves the code to the right one', async () => {
    const { code, verifier } = await signIn({ sub: 'pkce-1', email: 'pkce@oidc.example', email_verified: true });
    const wrong = await exchange(code, random());
    expect(wrong.status).toBe(401);
    expect(wrong.body?.error.code).toBe('invalid_credentials');
    expect(wrong.body?.session).toBeUndefined();
    expect((await exchange(code, verifier)).status).toBe(200);
  });

  it('a replayed code is refused and revokes the session its first exchange started', async () => {
    const { code, verifier } = await signIn({ sub: 'replay-1', email: 'replay@oidc.example', email_verified: true });
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    const { accessToken, refreshToken } = first.body?.session ?? {};
    expect((await call('GET', '/v1/auth/me', undefined, bearer(accessToken))).status).toBe(200);

    const replay = await exchange(code, verifier);
    expect(replay.status).toBe(401);
    expect(replay.body?.error.code).toBe('invalid_credentials');
    expect((await call('GET', '/v1/auth/me', undefined, bearer(accessToken))).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken })).status).toBe(401);
    const [session] = await db().query<{ revoked_reason: string }>(
      'SELECT revoked_reason FROM plinth.sessions WHERE id = (SELECT session_id FROM plinth.oauth_codes WHERE user_id = $1)',
      [first.body?.user.id],
    );
    expect(session?.revoked_reason).toBe('oauth_code_replay');
  });

  it('a replay without the verifier (whoever holds a leaked code) revokes the session too', async () => {
    const { code, verifier } = await signIn({ sub: 'replay-2', email: 'replay2@oidc.example', email_verified: true });
    const first = await exchange(code, verifier);
    expect((await exchange(code, random())).status).toBe(401);
    expect((await call('GET', '/v1/auth/me', undefined, bearer(first.body?.session.accessToken))).status).toBe(401);
  });

  it('an expired code is refused', async () => {
    const { code, verifier } = await signIn({ sub: 'late-1', email: 'late@oidc.example', email_verified: true });
    await db().query(
      `UPDATE plinth.oauth_codes SET expires_at = now() - interval '1 second'
        WHERE user_id = (SELECT id FROM plinth.users WHERE email = 'late@oidc.example')`,
    );
    const answer = await exchange(code, verifier);
    expect(answer.status).toBe(401);
    expect(answer.body?.error.code).toBe('invalid_credentials');
  });

  it('codes live at most 10 minutes and are stored only hashed', async () => {
    const { code } = await signIn({ sub: 'ttl-1', email: 'ttl@oidc.example', email_verified: true });
    const [row] = await db().query<{ code_hash: string; seconds: number }>(
      `SELECT code_hash, extract(epoch FROM expires_at - created_at)::int AS seconds FROM plinth.oauth_codes
        WHERE user_id = (SELECT id FROM plinth.users WHERE email = 'ttl@oidc.example')`,
    );
    expect(row?.seconds).toBeGreaterThan(0);
    expect(row?.seconds).toBeLessThanOrEqual(600);
    expect(row?.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.code_hash).not.toContain(code);
    const [flowTtl] = await db().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM plinth.oauth_flows WHERE expires_at - created_at > interval '10 minutes'`,
    );
    expect(flowTtl?.n).toBe(0);
  });

  it('an unknown code is refused', async () => {
    expect((await exchange(`oc_${random()}`, random())).status).toBe(401);
  });
});

describe('authorize refuses', () => {
  const authorize = (query: Partial<Parameters<typeof authorizeUrl>[0]>) =>
    fetch(authorizeUrl({ codeChallenge: codeChallengeS256(random()), state: random(), ...query }), {
      redirect: 'manual',
    });

  it.each([
    ['a host that only shares a prefix', 'https://app.example.com.evil.com/callback'],
    ['another path', 'https://app.example.com/elsewhere'],
    ['a longer path', 'https://app.example.com/callback/more'],
    ['a trailing slash', 'https://app.example.com/callback/'],
    ['an added query', 'https://app.example.com/callback?next=https://evil.example'],
    ['another scheme', 'http://app.example.com/callback'],
    ['another port', 'https://app.example.com:8443/callback'],
    ['a user part', 'https://evil.example@app.example.com/callback'],
  ])(
    'a redirectTo not exactly on the allow-list (%s) → 400 naming redirectTo, no flow stored',
    async (_what, redirectTo) => {
      const before = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM plinth.oauth_flows');
      const response = await authorize({ redirectTo });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.json()).toMatchObject({
        error: { code: 'validation_failed', details: { field: 'redirectTo' } },
      });
      const after = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM plinth.oauth_flows');
      expect(after[0]?.n).toBe(before[0]?.n);
    },
  );

  it('an allow-listed URL passes, a native app’s private scheme included', async () => {
    expect((await authorize({ redirectTo: appCallback })).status).toBe(302);
    expect((await authorize({ redirectTo: 'com.example.app:/oauth' })).status).toBe(302);
  });

  it('codeChallengeMethod plain → 400 naming it', async () => {
    const response = await authorize({ method: 'plain' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { details: { field: 'codeChallengeMethod' } } });
  });

  it('a missing or malformed code challenge → 400', async () => {
    const response = await authorize({ codeChallenge: 'short' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { details: { field: 'codeChallenge' } } });
  });

  it('an unknown provider → 404 not_found naming it', async () => {
    const response = await authorize({ provider: 'nope' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: { code: 'not_found', message: expect.stringContaining('"nope"'), details: { provider: 'nope' } },
    });
  });
});

describe('the callback refuses', () => {
  /** A sign-in stopped just before the browser reaches Plinth's callback. */
  async function atPlinthCallback(account: TestAccount) {
    const started = await startSignIn(account, 'test', atCallback);
    expect(started.landing.kind).toBe('stopped');
    return { ...started, callbackUrl: new URL(started.landing.url) };
  }

  it('an unknown state → 401, nothing for the app', async () => {
    const browser = createTestBrowser();
    const landing = await browser.navigate(
      `${server().url}/v1/auth/oauth/test/callback?code=abc&state=${random()}`,
      atApp,
    );
    expect(landing).toMatchObject({ kind: 'answered', status: 401 });
    expect(JSON.parse((landing as { body: string }).body)).toMatchObject({ error: { code: 'invalid_credentials' } });
  });

  it('a state altered on the way back → 401; the real one still finishes', async () => {
    const { browser, callbackUrl, state } = await atPlinthCallback({
      sub: 'alter-1',
      email: 'alter@oidc.example',
      email_verified: true,
    });
    const altered = new URL(callbackUrl);
    altered.searchParams.set('state', random());
    expect(await browser.navigate(altered.href, atApp)).toMatchObject({ kind: 'answered', status: 401 });
    const landing = await browser.navigate(callbackUrl.href, atApp);
    expect(appQuery(landing).get('state')).toBe(state);
  });

  it('a callback replayed after it was used → 401 (the flow is single use)', async () => {
    const { browser, callbackUrl } = await atPlinthCallback({
      sub: 'twice-1',
      email: 'twice@oidc.example',
      email_verified: true,
    });
    const cookies = browser.cookies('127.0.0.1');
    expect(appQuery(await browser.navigate(callbackUrl.href, atApp)).get('code')).toBeTruthy();
    // Even with the binding cookie the first visit cleared put back.
    const bindings = [...cookies].filter(([name]) => name.includes('plinth-oauth'));
    expect(bindings).toHaveLength(1);
    const cookie = bindings.map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie } });
    expect(response.status).toBe(401);
    expect(response.headers.get('location')).toBeNull();
  });

  it('a callback opened in another browser (no binding cookie) → 401; the browser that started it still finishes', async () => {
    const { browser, callbackUrl, state } = await atPlinthCallback({
      sub: 'csrf-1',
      email: 'csrf@oidc.example',
      email_verified: true,
    });
    // Login CSRF: the attacker's callback URL sent to a victim's browser.
    const victim = createTestBrowser();
    expect(await victim.navigate(callbackUrl.href, atApp)).toMatchObject({ kind: 'answered', status: 401 });
    expect(appQuery(await browser.navigate(callbackUrl.href, atApp)).get('state')).toBe(state);
  });

  it('a flow whose record expired → 401', async () => {
    const { browser, callbackUrl } = await atPlinthCallback({
      sub: 'slow-1',
      email: 'slow@oidc.example',
      email_verified: true,
    });
    await db().query(`UPDATE plinth.oauth_flows SET expires_at = now() - interval '1 second'`);
    expect(await browser.navigate(callbackUrl.href, atApp)).toMatchObject({ kind: 'answered', status: 401 });
  });

  it('a state presented at another provider’s callback → 401', async () => {
    const { browser, callbackUrl } = await atPlinthCallback({
      sub: 'mix-1',
      email: 'mix@oidc.example',
      email_verified: true,
    });
    const elsewhere = new URL(callbackUrl.href.replace('/test/callback', '/test-ps/callback'));
    expect(await browser.navigate(elsewhere.href, atApp)).toMatchObject({ kind: 'answered', status: 401 });
  });

  it('an `iss` naming another issuer (RFC 9207 mix-up) → back to the app with error=provider_error', async () => {
    const { browser, callbackUrl, state } = await atPlinthCallback({
      sub: 'iss-1',
      email: 'iss@oidc.example',
      email_verified: true,
    });
    expect(callbackUrl.searchParams.get('iss')).toBe(idp.issuer);
    callbackUrl.searchParams.set('iss', 'https://evil.example');
    const query = appQuery(await browser.navigate(callbackUrl.href, atApp));
    expect(Object.fromEntries(query)).toEqual({ error: 'provider_error', state });
  });

  it('the user declining at the provider → back to the app with error=access_denied and the app’s state', async () => {
    idp.declineNext();
    const { landing, state } = await startSignIn({ sub: 'no-1', email: 'no@oidc.example', email_verified: true });
    expect(Object.fromEntries(appQuery(landing))).toEqual({ error: 'access_denied', state });
  });

  it('an ID token signed with an algorithm off the allow-list (PS256) → error=provider_error, no account', async () => {
    const { landing, state } = await startSignIn(
      { sub: 'ps-1', email: 'ps@oidc.example', email_verified: true },
      'test-ps',
    );
    expect(Object.fromEntries(appQuery(landing))).toEqual({ error: 'provider_error', state });
    expect(await db().query(`SELECT 1 FROM plinth.users WHERE email = 'ps@oidc.example'`)).toEqual([]);
  });
});

describe('linking to an existing account by email', () => {
  it('existing verified account + provider email_verified → the identity is linked to the same user', async () => {
    const userId = await passwordAccount('link@oidc.example', true);
    const { code, verifier } = await signIn({ sub: 'link-1', email: 'LINK@oidc.example', email_verified: true });
    const answer = await exchange(code, verifier);
    expect(answer.body?.user).toMatchObject({ id: userId, email: 'link@oidc.example', emailVerified: true });
    expect(await identitiesOf('link@oidc.example')).toEqual([{ provider: 'test', subject: 'link-1', user_id: userId }]);
    // The password still works: linking added a way in, it took none away.
    expect((await call('POST', '/v1/auth/sign-in', { email: 'link@oidc.example', password })).status).toBe(200);
  });

  it('existing UNVERIFIED account → refused with error=account_exists_unverified: no takeover', async () => {
    const userId = await passwordAccount('squat@oidc.example', false);
    const { landing, state } = await startSignIn({ sub: 'squat-1', email: 'squat@oidc.example', email_verified: true });
    expect(Object.fromEntries(appQuery(landing))).toEqual({ error: 'account_exists_unverified', state });
    expect(await identitiesOf('squat@oidc.example')).toEqual([]);
    const [codes] = await db().query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plinth.oauth_codes WHERE user_id = $1',
      [userId],
    );
    expect(codes?.n).toBe(0);
  });

  it('provider email_verified=false + existing verified account → refused: no takeover', async () => {
    const userId = await passwordAccount('victim@oidc.example', true);
    const { landing, state } = await startSignIn({
      sub: 'attacker-1',
      email: 'victim@oidc.example',
      email_verified: false,
    });
    expect(Object.fromEntries(appQuery(landing))).toEqual({ error: 'account_exists_unverified', state });
    expect(await identitiesOf('victim@oidc.example')).toEqual([]);
    const [codes] = await db().query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plinth.oauth_codes WHERE user_id = $1',
      [userId],
    );
    expect(codes?.n).toBe(0);
  });

  it('a provider that gives no email_verified at all counts as unverified', async () => {
    await passwordAccount('noclaim@oidc.example', true);
    const { landing } = await startSignIn({ sub: 'noclaim-1', email: 'noclaim@oidc.example' });
    expect(appQuery(landing).get('error')).toBe('account_exists_unverified');
  });

  it('a new account is stored under the canonical email, and another spelling signs in to it', async () => {
    const first = await signIn({ sub: 'case-1', email: 'New.Case@OIDC.example', email_verified: true });
    const answer = await exchange(first.code, first.verifier);
    expect(answer.body?.user.email).toBe('new.case@oidc.example');
    const [identity] = await db().query<{ email: string }>(
      `SELECT email FROM plinth.identities WHERE provider = 'test' AND subject = 'case-1'`,
    );
    expect(identity?.email).toBe('new.case@oidc.example');
    const again = await signIn({ sub: 'case-2', email: 'NEW.CASE@oidc.example', email_verified: true });
    expect((await exchange(again.code, again.verifier)).body?.user.id).toBe(answer.body?.user.id);
  });

  it('a provider account without an email → error=email_required', async () => {
    const { landing, state } = await startSignIn({ sub: 'mute-1' });
    expect(Object.fromEntries(appQuery(landing))).toEqual({ error: 'email_required', state });
  });
});
