import { authMode, createAuthClient, localStorageStore, memoryStore, type SessionStore } from '@plinth/auth';
import { ConfigurationError, createTransport } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeStorage, signedIn, tokens, unauthenticated, user } from '../../../test/fixtures/auth.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();

afterEach(() => {
  vi.unstubAllGlobals();
});

const transport = () => createTransport({ url: apiUrl, publishableKey: 'pk_test', retry: false });
const paths = () => mock.requests.map((request) => `${request.method} ${new URL(request.url).pathname}`);

/** A store that records everything written to it. */
function recordingStore(): SessionStore & { writes: string[] } {
  const inner = memoryStore();
  const writes: string[] = [];
  return {
    writes,
    get: (key) => inner.get(key),
    set: (key, value) => {
      writes.push(`${key}=${value}`);
      return inner.set(key, value);
    },
    remove: (key) => inner.remove(key),
  };
}

describe('cookie mode', () => {
  it('asks for a cookie session, sends no Authorization header, and stores no token', async () => {
    // A server that (wrongly) answers tokens anyway: cookie mode must still hold none.
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))),
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
      http.get(`${apiUrl}/v1/auth/me`, () => HttpResponse.json({ user })),
      http.post(`${apiUrl}/v1/auth/password`, () => HttpResponse.json({ updated: true })),
      http.post(`${apiUrl}/v1/auth/sign-out`, () => HttpResponse.json({ signedOut: 1 })),
    );
    const store = recordingStore();
    const auth = createAuthClient(transport(), { mode: 'cookie', store, tabSync: false });
    const seen: unknown[] = [];
    auth.onAuthStateChange((event, state) => seen.push([event, state.session]));

    await expect(auth.signIn({ email: user.email, password: 'pw' })).resolves.toEqual({ user, session: null });
    await auth.refresh();
    await auth.getMe();
    await auth.updatePassword({ currentPassword: 'pw', newPassword: 'new password' });
    await auth.signOut();

    expect(await mock.requests[0]?.json()).toEqual({ email: user.email, password: 'pw', mode: 'cookie' });
    expect(await mock.requests[1]?.json()).toEqual({ mode: 'cookie' }); // no refresh token: the cookie is it
    expect(mock.requests.map((request) => request.headers.get('authorization'))).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(store.writes).toEqual([]);
    expect(seen).toEqual([
      ['SIGNED_IN', null],
      ['TOKEN_REFRESHED', null],
      ['USER_UPDATED', null],
      ['SIGNED_OUT', null],
    ]);
    await expect(auth.getSession()).resolves.toEqual({ user: null, session: null });
  });

  it('holds only the OAuth verifier and state in its store, never a token, and not for longer than the sign-in', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/oauth/token`, () => signedIn(tokens(1))));
    const store = recordingStore();
    const auth = createAuthClient(transport(), { mode: 'cookie', store, tabSync: false });
    const url = new URL(await auth.signInWithOAuth({ provider: 'github', redirectTo: 'https://app.test/cb' }));
    await auth.exchangeCode({ code: 'code_1', state: url.searchParams.get('state') ?? '' });

    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]).toMatch(/^plinth\.auth\.oauth=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(store.writes.join()).not.toMatch(/at_1|rt_1/);
    expect(await store.get('plinth.auth.oauth')).toBeUndefined();
    expect(await mock.requests[0]?.json()).toMatchObject({ code: 'code_1', mode: 'cookie' });
  });

  it('keeps the user it learns in memory, from sign-in or from getMe after a reload', async () => {
    mock.use(http.get(`${apiUrl}/v1/auth/me`, () => HttpResponse.json({ user })));
    const auth = createAuthClient(transport(), { mode: 'cookie', store: memoryStore(), tabSync: false });
    const events = vi.fn();
    auth.onAuthStateChange(events);
    await expect(auth.getMe()).resolves.toEqual(user);
    expect(events).toHaveBeenCalledWith('SIGNED_IN', { user, session: null });
    await expect(auth.getSession()).resolves.toEqual({ user, session: null });
  });

  it('after a reload (user unknown), a refresh that works is reported as SIGNED_IN', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, ({ request }) =>
        mock.requests.filter((r) => r.url === request.url).length > 1 ? HttpResponse.json({ user }) : unauthenticated(),
      ),
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(null)),
    );
    const auth = createAuthClient(transport(), { mode: 'cookie', store: memoryStore(), tabSync: false });
    const events: string[] = [];
    auth.onAuthStateChange((event) => events.push(event));
    await expect(auth.getMe()).resolves.toEqual(user); // the access cookie had expired; the refresh cookie had not
    expect(paths()).toEqual(['GET /v1/auth/me', 'POST /v1/auth/refresh', 'GET /v1/auth/me']);
    expect(events).toEqual(['SIGNED_IN']);
  });

  it('getMe while signed out: tries the refresh cookie once, then answers null', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, () => unauthenticated('unauthenticated')),
      http.post(`${apiUrl}/v1/auth/refresh`, () => unauthenticated('unauthenticated')),
    );
    const auth = createAuthClient(transport(), { mode: 'cookie', store: memoryStore(), tabSync: false });
    const events = vi.fn();
    auth.onAuthStateChange(events);
    await expect(auth.getMe()).resolves.toBeNull();
    expect(paths()).toEqual(['GET /v1/auth/me', 'POST /v1/auth/refresh']);
    expect(events).not.toHaveBeenCalled(); // nothing changed: it was signed out already
  });

  it('by default keeps the OAuth verifier in sessionStorage (it must survive the redirect), never in localStorage', async () => {
    const session = fakeStorage();
    const local = fakeStorage();
    vi.stubGlobal('sessionStorage', session);
    vi.stubGlobal('localStorage', local);
    const auth = createAuthClient(transport(), { mode: 'cookie', tabSync: false });
    await auth.signInWithOAuth({ provider: 'github', redirectTo: 'https://app.test/cb' });
    expect([...session.entries.keys()]).toEqual(['plinth.auth.oauth']);
    expect(local.entries.size).toBe(0);
  });
});

describe('localStorage in cookie mode', () => {
  it('is refused with a ConfigurationError that says how to fix it, before any request', () => {
    const store = localStorageStore(fakeStorage());
    const make = () => createAuthClient(transport(), { mode: 'cookie', store });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(/cookie mode.*mode: 'token'/);
    expect(() => authMode({ mode: 'cookie', store })).toThrow(ConfigurationError);
    expect(mock.requests).toHaveLength(0);
  });

  it('is refused in a browser-like runtime, where cookie mode is the default', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    expect(() => authMode({ store: localStorageStore(fakeStorage()) })).toThrow(ConfigurationError);
    expect(authMode({})).toBe('cookie');
  });

  it('is accepted in token mode, where it keeps the session across reloads', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))));
    const storage = fakeStorage();
    const auth = createAuthClient(transport(), { mode: 'token', store: localStorageStore(storage), tabSync: false });
    await auth.signIn({ email: user.email, password: 'pw' });
    expect(JSON.parse(storage.entries.get('plinth.auth.session') ?? 'null')).toEqual({ user, session: tokens(1) });
  });
});

describe('the default mode', () => {
  it('is token mode outside browsers, cookie mode in browser-like runtimes', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(null)));
    expect(createAuthClient(transport()).mode).toBe('token');
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    const auth = createAuthClient(transport());
    expect(auth.mode).toBe('cookie');
    await auth.signIn({ email: user.email, password: 'pw' });
    expect(await mock.requests[0]?.json()).toMatchObject({ mode: 'cookie' });
  });
});
