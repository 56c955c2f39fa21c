import { type AuthChangeEvent, createAuthClient, memoryStore, type SessionStore } from '@plinth/auth';
import { AuthError, createTransport, PermissionError, ProtocolError, ServerError } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signedIn, tokens, unauthenticated, user } from '../../../test/fixtures/auth.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();

afterEach(() => {
  vi.useRealTimers();
});

const paths = () => mock.requests.map((request) => `${request.method} ${new URL(request.url).pathname}`);
const bearer = (index: number) => mock.requests[index]?.headers.get('authorization');

function tokenClient(store: SessionStore = memoryStore()) {
  const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', retry: false });
  const auth = createAuthClient(transport, { mode: 'token', store, tabSync: false });
  const events: AuthChangeEvent[] = [];
  auth.onAuthStateChange((event) => events.push(event));
  return { auth, store, events };
}

/** A token-mode client signed in with the first token pair; the sign-in request is forgotten. */
async function signedInClient(store?: SessionStore) {
  mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))));
  const client = tokenClient(store);
  await client.auth.signIn({ email: user.email, password: 'correct horse' });
  mock.requests.length = 0;
  client.events.length = 0;
  return client;
}

describe('token mode: sign-in and the session', () => {
  it('signs in with mode token, keeps the tokens in the store and sends the access token on session calls', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))),
      http.get(`${apiUrl}/v1/auth/me`, () => HttpResponse.json({ user })),
    );
    const { auth, store, events } = tokenClient();
    const result = await auth.signIn({ email: user.email, password: 'correct horse' });

    expect(result).toEqual({ user, session: tokens(1) });
    expect(await mock.requests[0]?.json()).toEqual({ email: user.email, password: 'correct horse', mode: 'token' });
    expect(bearer(0)).toBeNull(); // sign-in is a public route
    expect(JSON.parse((await store.get('plinth.auth.session')) ?? 'null')).toEqual({ user, session: tokens(1) });
    expect(events).toEqual(['SIGNED_IN']);

    await expect(auth.getMe()).resolves.toEqual(user);
    expect(bearer(1)).toBe('Bearer at_1');
  });

  it('restores a stored session in a new client (a restart), from a sync or an async store', async () => {
    const { store } = await signedInClient();
    const asyncStore: SessionStore = {
      get: async (key) => store.get(key),
      set: async () => {},
      remove: async () => {},
    };
    mock.use(http.get(`${apiUrl}/v1/auth/me`, () => HttpResponse.json({ user })));
    for (const restored of [tokenClient(store).auth, tokenClient(asyncStore).auth]) {
      await expect(restored.getSession()).resolves.toEqual({ user, session: tokens(1) });
      await restored.getMe();
    }
    expect([bearer(0), bearer(1)]).toEqual(['Bearer at_1', 'Bearer at_1']);
  });

  it('treats unreadable stored data as signed out', async () => {
    const store = memoryStore();
    await store.set('plinth.auth.session', '{not json');
    await expect(tokenClient(store).auth.getSession()).resolves.toEqual({ user: null, session: null });
  });

  it('refuses a sign-in answer without tokens in token mode, and stays signed out', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(null)));
    const { auth, events } = tokenClient();
    await expect(auth.signIn({ email: user.email, password: 'pw' })).rejects.toBeInstanceOf(ProtocolError);
    await expect(auth.getSession()).resolves.toEqual({ user: null, session: null });
    expect(events).toEqual([]);
  });

  it('signs in with a magic link token, in token mode', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/magic-link/verify`, () => signedIn(tokens(1))));
    const { auth, events } = tokenClient();
    await expect(auth.verifyMagicLink({ token: 'ml_1' })).resolves.toEqual({ user, session: tokens(1) });
    expect(await mock.requests[0]?.json()).toEqual({ token: 'ml_1', mode: 'token' });
    expect(events).toEqual(['SIGNED_IN']);
  });
});

describe('the other auth calls: paths, bodies, and credentials only where the route needs them', () => {
  it('sends public calls without a token even when signed in', async () => {
    const { auth } = await signedInClient();
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-up`, () => HttpResponse.json({ accepted: true })),
      http.post(`${apiUrl}/v1/auth/magic-link`, () => HttpResponse.json({ accepted: true })),
      http.post(`${apiUrl}/v1/auth/reset-password`, () => HttpResponse.json({ accepted: true })),
      http.post(`${apiUrl}/v1/auth/reset-password/confirm`, () => HttpResponse.json({ updated: true })),
      http.post(`${apiUrl}/v1/auth/verify-email`, () => HttpResponse.json({ verified: true })),
    );
    const redirectTo = 'https://app.test/welcome';
    await expect(auth.signUp({ email: user.email, password: 'long enough', redirectTo })).resolves.toEqual({
      accepted: true,
    });
    await expect(auth.signInWithMagicLink({ email: user.email })).resolves.toEqual({ accepted: true });
    await expect(auth.resetPassword({ email: user.email })).resolves.toEqual({ accepted: true });
    await expect(auth.confirmPasswordReset({ token: 'rs_1', newPassword: 'new password' })).resolves.toEqual({
      updated: true,
    });
    await expect(auth.verifyEmail({ token: 've_1' })).resolves.toEqual({ verified: true });

    expect(paths()).toEqual([
      'POST /v1/auth/sign-up',
      'POST /v1/auth/magic-link',
      'POST /v1/auth/reset-password',
      'POST /v1/auth/reset-password/confirm',
      'POST /v1/auth/verify-email',
    ]);
    expect(await Promise.all(mock.requests.map((request) => request.json()))).toEqual([
      { email: user.email, password: 'long enough', redirectTo },
      { email: user.email },
      { email: user.email },
      { token: 'rs_1', newPassword: 'new password' },
      { token: 've_1' },
    ]);
    expect(mock.requests.map((request) => request.headers.get('authorization'))).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('updates the password with the access token and announces USER_UPDATED', async () => {
    const { auth, events } = await signedInClient();
    mock.use(http.post(`${apiUrl}/v1/auth/password`, () => HttpResponse.json({ updated: true })));
    await expect(auth.updatePassword({ currentPassword: 'old', newPassword: 'new password' })).resolves.toEqual({
      updated: true,
    });
    expect(bearer(0)).toBe('Bearer at_1');
    expect(events).toEqual(['USER_UPDATED']);
  });
});

describe('a 401 on a session call', () => {
  it('triggers one refresh and one replay with the new access token', async () => {
    const { auth, store, events } = await signedInClient();
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, ({ request }) =>
        request.headers.get('authorization') === 'Bearer at_2' ? HttpResponse.json({ user }) : unauthenticated(),
      ),
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
    );
    await expect(auth.getMe()).resolves.toEqual(user);

    expect(paths()).toEqual(['GET /v1/auth/me', 'POST /v1/auth/refresh', 'GET /v1/auth/me']);
    expect([bearer(0), bearer(1), bearer(2)]).toEqual(['Bearer at_1', null, 'Bearer at_2']);
    expect(await mock.requests[1]?.json()).toEqual({ refreshToken: 'rt_1', mode: 'token' });
    expect(JSON.parse((await store.get('plinth.auth.session')) ?? 'null').session).toEqual(tokens(2));
    expect(events).toEqual(['TOKEN_REFRESHED']);
  });

  it('does not loop when the replay is refused too: the error surfaces after exactly one refresh', async () => {
    const { auth } = await signedInClient();
    mock.use(
      http.post(`${apiUrl}/v1/auth/password`, () => unauthenticated()),
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
    );
    const error = await auth.updatePassword({ currentPassword: 'a', newPassword: 'new password' }).catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 401 });
    expect(paths()).toEqual(['POST /v1/auth/password', 'POST /v1/auth/refresh', 'POST /v1/auth/password']);
  });

  it('getMe answers null (and does not loop) when the replay is refused', async () => {
    const { auth } = await signedInClient();
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, () => unauthenticated()),
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
    );
    await expect(auth.getMe()).resolves.toBeNull();
    expect(paths()).toEqual(['GET /v1/auth/me', 'POST /v1/auth/refresh', 'GET /v1/auth/me']);
  });

  it('signs out locally when the refresh itself is refused', async () => {
    const { auth, store, events } = await signedInClient();
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, () => unauthenticated()),
      http.post(`${apiUrl}/v1/auth/refresh`, () => unauthenticated('invalid_credentials')),
    );
    await expect(auth.getMe()).resolves.toBeNull();
    expect(paths()).toEqual(['GET /v1/auth/me', 'POST /v1/auth/refresh']);
    expect(events).toEqual(['SIGNED_OUT']);
    await expect(auth.getSession()).resolves.toEqual({ user: null, session: null });
    expect(await store.get('plinth.auth.session')).toBeUndefined();
  });

  it('is not a refresh trigger for other errors, which getMe throws', async () => {
    const { auth } = await signedInClient();
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, () =>
        HttpResponse.json({ error: { code: 'internal_error', message: 'boom', requestId: 'r' } }, { status: 500 }),
      ),
    );
    await expect(auth.getMe()).rejects.toBeInstanceOf(ServerError);
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, () =>
        HttpResponse.json({ error: { code: 'permission_denied', message: 'no', requestId: 'r' } }, { status: 403 }),
      ),
    );
    await expect(auth.getMe()).rejects.toBeInstanceOf(PermissionError);
    expect(paths()).toEqual(['GET /v1/auth/me', 'GET /v1/auth/me']);
  });
});

describe('getMe while signed out', () => {
  it('answers null on a 401, with one request, no token and no refresh attempt', async () => {
    mock.use(http.get(`${apiUrl}/v1/auth/me`, () => unauthenticated('unauthenticated')));
    const { auth, events } = tokenClient();
    await expect(auth.getMe()).resolves.toBeNull();
    expect(paths()).toEqual(['GET /v1/auth/me']);
    expect(bearer(0)).toBeNull();
    expect(events).toEqual([]);
  });

  it('refresh() refuses without a request when there is no session', async () => {
    const { auth } = tokenClient();
    await expect(auth.refresh()).rejects.toMatchObject({ name: 'AuthError', code: 'unauthenticated' });
    expect(mock.requests).toHaveLength(0);
  });
});

describe('getMe({ headers }) on a server: the incoming request’s user', () => {
  it('forwards the Cookie header only, sends no token of its own, and leaves this client’s state alone', async () => {
    const { auth, events } = await signedInClient();
    mock.use(http.get(`${apiUrl}/v1/auth/me`, () => HttpResponse.json({ user: { ...user, id: 'usr_bob' } })));
    const incoming = new Headers({ cookie: 'plinth_session=abc; theme=dark', authorization: 'Bearer someone-else' });
    await expect(auth.getMe({ headers: incoming })).resolves.toMatchObject({ id: 'usr_bob' });
    expect(mock.requests[0]?.headers.get('cookie')).toBe('plinth_session=abc; theme=dark');
    expect(bearer(0)).toBeNull();
    expect(events).toEqual([]);
    await expect(auth.getSession()).resolves.toEqual({ user, session: tokens(1) });
  });

  it('reads Node’s IncomingHttpHeaders too, and answers null for a request without a session', async () => {
    const { auth } = tokenClient();
    mock.use(http.get(`${apiUrl}/v1/auth/me`, () => unauthenticated()));
    await expect(auth.getMe({ headers: { cookie: 'plinth_session=expired', host: 'app.test' } })).resolves.toBeNull();
    expect(mock.requests[0]?.headers.get('cookie')).toBe('plinth_session=expired');
    expect(paths()).toEqual(['GET /v1/auth/me']); // no refresh: the session is the browser's, not ours
  });
});

describe('signOut', () => {
  it('local (default): revokes this session on the server and forgets it here', async () => {
    const { auth, store, events } = await signedInClient();
    mock.use(http.post(`${apiUrl}/v1/auth/sign-out`, () => HttpResponse.json({ signedOut: 1 })));
    await auth.signOut();
    expect(bearer(0)).toBe('Bearer at_1');
    expect(await mock.requests[0]?.json()).toEqual({});
    expect(events).toEqual(['SIGNED_OUT']);
    expect(await store.get('plinth.auth.session')).toBeUndefined();
  });

  it('others: keeps this session; global: forgets it', async () => {
    const { auth, events } = await signedInClient();
    mock.use(http.post(`${apiUrl}/v1/auth/sign-out`, () => HttpResponse.json({ signedOut: 3 })));
    await auth.signOut({ scope: 'others' });
    expect(events).toEqual([]);
    await expect(auth.getSession()).resolves.toEqual({ user, session: tokens(1) });
    await auth.signOut({ scope: 'global' });
    expect(events).toEqual(['SIGNED_OUT']);
    expect(await Promise.all(mock.requests.map((request) => request.json()))).toEqual([
      { scope: 'others' },
      { scope: 'global' },
    ]);
  });

  it('forgets the session when the server no longer knows it (401 after a failed refresh)', async () => {
    const { auth, events } = await signedInClient();
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-out`, () => unauthenticated()),
      http.post(`${apiUrl}/v1/auth/refresh`, () => unauthenticated()),
    );
    await expect(auth.signOut()).resolves.toBeUndefined();
    expect(events).toEqual(['SIGNED_OUT']); // once, though both the refresh and the sign-out said so
    await expect(auth.getSession()).resolves.toEqual({ user: null, session: null });
  });

  it('keeps the session when the server could not sign out (it is still alive there)', async () => {
    const { auth, events } = await signedInClient();
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-out`, () =>
        HttpResponse.json({ error: { code: 'service_unavailable', message: 'down', requestId: 'r' } }, { status: 503 }),
      ),
    );
    await expect(auth.signOut()).rejects.toBeInstanceOf(ServerError);
    expect(events).toEqual([]);
    await expect(auth.getSession()).resolves.toEqual({ user, session: tokens(1) });
  });
});

describe('onAuthStateChange', () => {
  it('reports each change in order, before the call that made it resolves', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))),
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
      http.get(`${apiUrl}/v1/auth/me`, () => HttpResponse.json({ user: { ...user, emailVerified: false } })),
      http.post(`${apiUrl}/v1/auth/sign-out`, () => HttpResponse.json({ signedOut: 1 })),
    );
    const { auth } = tokenClient();
    const seen: string[] = [];
    auth.onAuthStateChange((event, { user: who, session }) => seen.push(`${event} ${who?.id} ${session?.accessToken}`));

    await auth.signIn({ email: user.email, password: 'pw' }).then(() => seen.push('signIn resolved'));
    await auth.refresh();
    await auth.getMe(); // the user changed on the server
    await auth.getMe(); // unchanged: no event
    await auth.signOut();

    expect(seen).toEqual([
      'SIGNED_IN usr_ada at_1',
      'signIn resolved',
      'TOKEN_REFRESHED usr_ada at_2',
      'USER_UPDATED usr_ada at_2',
      'SIGNED_OUT undefined undefined',
    ]);
  });

  it('calls listeners in subscription order, and not after they unsubscribe', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))),
      http.post(`${apiUrl}/v1/auth/sign-out`, () => HttpResponse.json({ signedOut: 1 })),
    );
    const { auth } = tokenClient();
    const calls: string[] = [];
    const stopFirst = auth.onAuthStateChange((event) => calls.push(`first ${event}`));
    auth.onAuthStateChange((event) => calls.push(`second ${event}`));
    await auth.signIn({ email: user.email, password: 'pw' });
    stopFirst();
    stopFirst(); // twice is harmless
    await auth.signOut();
    expect(calls).toEqual(['first SIGNED_IN', 'second SIGNED_IN', 'second SIGNED_OUT']);
  });

  it('a throwing listener neither stops the others nor fails the sign-in; its error is reported', async () => {
    vi.useFakeTimers();
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))));
    const { auth } = tokenClient();
    const after = vi.fn();
    auth.onAuthStateChange(() => {
      throw new Error('listener bug');
    });
    auth.onAuthStateChange(after);
    await expect(auth.signIn({ email: user.email, password: 'pw' })).resolves.toMatchObject({ user });
    expect(after).toHaveBeenCalledWith('SIGNED_IN', { user, session: tokens(1) });
    expect(() => vi.runAllTimers()).toThrow('listener bug');
  });
});
