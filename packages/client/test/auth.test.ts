import {
  ConfigurationError,
  createClient,
  localStorageStore,
  memoryStore,
  type SessionStore,
  type User,
} from '@plinth/client';
import { HttpResponse, http } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signedIn, tokens, user } from '../../../test/fixtures/auth.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();

afterEach(() => {
  vi.unstubAllGlobals();
});

const browserLike = () => {
  vi.stubGlobal('window', {});
  vi.stubGlobal('document', {});
};

const fakeLocalStorage = () => {
  const entries = new Map<string, string>();
  return {
    getItem: (key: string) => entries.get(key) ?? null,
    setItem: (key: string, value: string) => void entries.set(key, value),
    removeItem: (key: string) => void entries.delete(key),
  };
};

describe('plinth.auth', () => {
  it('signs in over the client’s transport, with its publishable key', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))));
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test' });
    const result = await plinth.auth.signIn({ email: user.email, password: 'pw' });
    const me: User = result.user;
    expect(me).toEqual(user);
    expect(mock.requests[0]?.headers.get('apikey')).toBe('pk_test');
  });

  it('is in token mode outside browsers and in cookie mode in browser-like runtimes', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(null)));
    expect(createClient({ url: apiUrl, publishableKey: 'pk_test' }).auth.mode).toBe('token');
    browserLike();
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test' });
    expect(plinth.auth.mode).toBe('cookie');
    await plinth.auth.signIn({ email: user.email, password: 'pw' });
    expect(await mock.requests[0]?.json()).toMatchObject({ mode: 'cookie' });
    expect(mock.requests[0]?.headers.get('authorization')).toBeNull();
  });

  it('lets an option force either mode', () => {
    expect(createClient({ url: apiUrl, publishableKey: 'pk_test', auth: { mode: 'cookie' } }).auth.mode).toBe('cookie');
    browserLike();
    expect(createClient({ url: apiUrl, publishableKey: 'pk_test', auth: { mode: 'token' } }).auth.mode).toBe('token');
  });

  it('uses the store it is given', async () => {
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))));
    const store: SessionStore = memoryStore();
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test', auth: { store, storageKey: 'app' } });
    await plinth.auth.signIn({ email: user.email, password: 'pw' });
    expect(JSON.parse((await store.get('app.session')) ?? 'null')).toEqual({ user, session: tokens(1) });
  });

  it('refuses localStorage in cookie mode when the client is created, before auth is even read', () => {
    browserLike();
    vi.stubGlobal('localStorage', fakeLocalStorage());
    expect(() =>
      createClient({ url: apiUrl, publishableKey: 'pk_test', auth: { store: localStorageStore() } }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createClient({ url: apiUrl, publishableKey: 'pk_test', auth: { mode: 'token', store: localStorageStore() } }),
    ).not.toThrow();
    expect(mock.requests).toHaveLength(0);
  });

  it('getMe answers null while signed out', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, () =>
        HttpResponse.json({ error: { code: 'unauthenticated', message: 'x', requestId: 'r' } }, { status: 401 }),
      ),
    );
    await expect(createClient({ url: apiUrl, publishableKey: 'pk_test' }).auth.getMe()).resolves.toBeNull();
  });
});
