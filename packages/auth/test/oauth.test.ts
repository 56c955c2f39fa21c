import { codeChallenge, createAuthClient, memoryStore } from '@plinth/auth';
import { AuthError, createTransport } from '@plinth/core';
import { signInWithOAuthRoute, signInWithOAuthSchemas } from '@plinth/protocol';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { signedIn, tokens, user } from '../../../test/fixtures/auth.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();
const redirectTo = 'https://app.test/auth/callback';

function client(mode: 'cookie' | 'token' = 'token') {
  const store = memoryStore();
  const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', retry: false });
  return { auth: createAuthClient(transport, { mode, store, tabSync: false }), store };
}

describe('signInWithOAuth', () => {
  it('builds the authorize URL from the route, with an S256 challenge of the stored verifier, and sends nothing', async () => {
    const { auth, store } = client();
    const url = new URL(await auth.signInWithOAuth({ provider: 'github', redirectTo }));

    expect(`${url.origin}${url.pathname}`).toBe(`${apiUrl}/v1/auth/oauth/github/authorize`);
    expect(signInWithOAuthRoute.path).toBe('/v1/auth/oauth/:provider/authorize');
    const query = Object.fromEntries(url.searchParams);
    expect(Object.keys(query).sort()).toEqual(['codeChallenge', 'codeChallengeMethod', 'redirectTo', 'state']);
    expect(query).toMatchObject({ codeChallengeMethod: 'S256', redirectTo });
    // What the server will validate the request against.
    expect(signInWithOAuthSchemas.request.safeParse({ provider: 'github', ...query }).success).toBe(true);

    const [state, verifier] = String(await store.get('plinth.auth.oauth')).split('.');
    expect(query.state).toBe(state);
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.codeChallenge).toBe(await codeChallenge(verifier ?? ''));
    expect(url.href).not.toContain(verifier);
    expect(mock.requests).toHaveLength(0);
  });

  it('uses a fresh verifier and state for every sign-in, and encodes the provider', async () => {
    const { auth } = client();
    const first = new URL(await auth.signInWithOAuth({ provider: 'github', redirectTo }));
    const second = new URL(await auth.signInWithOAuth({ provider: 'a/b', redirectTo }));
    expect(second.pathname).toBe('/v1/auth/oauth/a%2Fb/authorize');
    expect(second.searchParams.get('state')).not.toBe(first.searchParams.get('state'));
    expect(second.searchParams.get('codeChallenge')).not.toBe(first.searchParams.get('codeChallenge'));
  });
});

describe('exchangeCode', () => {
  it('sends the code and the stored verifier, signs in, and removes the verifier', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/oauth/token`, () => signedIn(tokens(1))));
    const { auth, store } = client();
    const events: string[] = [];
    auth.onAuthStateChange((event) => events.push(event));
    const url = new URL(await auth.signInWithOAuth({ provider: 'github', redirectTo }));
    const verifier = String(await store.get('plinth.auth.oauth')).split('.')[1];

    const result = await auth.exchangeCode({ code: 'code_1', state: url.searchParams.get('state') ?? '' });
    expect(result).toEqual({ user, session: tokens(1) });
    expect(await mock.requests[0]?.json()).toEqual({ code: 'code_1', codeVerifier: verifier, mode: 'token' });
    expect(await store.get('plinth.auth.oauth')).toBeUndefined();
    expect(events).toEqual(['SIGNED_IN']);
  });

  it('refuses a state that does not match, sends nothing, and drops the sign-in (login CSRF)', async () => {
    const { auth, store } = client();
    await auth.signInWithOAuth({ provider: 'github', redirectTo });
    const error = await auth.exchangeCode({ code: 'attacker_code', state: 'x'.repeat(43) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/signInWithOAuth/);
    expect(mock.requests).toHaveLength(0);
    expect(await store.get('plinth.auth.oauth')).toBeUndefined();
  });

  it('refuses when no sign-in was started here, and a replayed callback after a success', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/oauth/token`, () => signedIn(tokens(1))));
    const { auth } = client();
    await expect(auth.exchangeCode({ code: 'c', state: 's' })).rejects.toBeInstanceOf(AuthError);
    expect(mock.requests).toHaveLength(0);

    const state = new URL(await auth.signInWithOAuth({ provider: 'github', redirectTo })).searchParams.get('state');
    await auth.exchangeCode({ code: 'code_1', state: state ?? '' });
    await expect(auth.exchangeCode({ code: 'code_1', state: state ?? '' })).rejects.toBeInstanceOf(AuthError);
    expect(mock.requests).toHaveLength(1);
  });
});
