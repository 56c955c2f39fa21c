import { type CookieMethods, type CookieToSet, createServerClient } from '@plinth/client';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { user } from '../../../test/fixtures/auth.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();

/** A framework's cookie API for one request: what the browser sent, and what the response sets. */
function requestCookies(incoming: Record<string, string>) {
  const set: CookieToSet[] = [];
  const cookies: CookieMethods = {
    getAll: () => Object.entries(incoming).map(([name, value]) => ({ name, value })),
    setAll: (list) => void set.push(...list),
  };
  return { cookies, set };
}

const withCookies = (body: Record<string, unknown>, ...setCookies: string[]) =>
  HttpResponse.json(body, { headers: setCookies.map((value) => ['set-cookie', value] as [string, string]) });

describe('createServerClient', () => {
  it('forwards the browser’s cookies to Plinth and relays the refreshed cookie back', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, ({ request }) =>
        request.headers.get('cookie') === 'plinth_session=s1'
          ? withCookies({ user }, 'plinth_session=s2; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax')
          : HttpResponse.json({ error: { code: 'unauthenticated', message: 'x', requestId: 'r' } }, { status: 401 }),
      ),
    );
    const { cookies, set } = requestCookies({ plinth_session: 's1' });
    const plinth = createServerClient({ url: apiUrl, publishableKey: 'pk_test', cookies });

    await expect(plinth.auth.getMe()).resolves.toEqual(user);
    expect(mock.requests[0]?.headers.get('authorization')).toBeNull();
    expect(set).toEqual([
      {
        name: 'plinth_session',
        value: 's2',
        options: { path: '/', maxAge: 3600, secure: true, httpOnly: true, sameSite: 'lax' },
      },
    ]);
  });

  it('signs in in cookie mode: the session cookies go to the response, no token to the app', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-in`, () =>
        withCookies(
          { user, session: null },
          'plinth_session=new; Path=/; HttpOnly; Secure; SameSite=Lax',
          'plinth_refresh=r; Path=/v1/auth/refresh; HttpOnly; Secure; SameSite=Lax',
        ),
      ),
    );
    const { cookies, set } = requestCookies({});
    const plinth = createServerClient({ url: apiUrl, publishableKey: 'pk_test', cookies });
    await expect(plinth.auth.signIn({ email: user.email, password: 'pw' })).resolves.toEqual({ user, session: null });
    expect(await mock.requests[0]?.json()).toMatchObject({ mode: 'cookie' });
    expect(mock.requests[0]?.headers.get('cookie')).toBeNull(); // the browser sent none
    expect(set.map(({ name, value }) => `${name}=${value}`)).toEqual(['plinth_session=new', 'plinth_refresh=r']);
  });

  it('relays a sign-out’s cookie deletion', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/auth/sign-out`, () =>
        withCookies({ signedOut: 1 }, 'plinth_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax'),
      ),
    );
    const { cookies, set } = requestCookies({ plinth_session: 's1' });
    await createServerClient({ url: apiUrl, publishableKey: 'pk_test', cookies }).auth.signOut();
    expect(mock.requests[0]?.headers.get('cookie')).toBe('plinth_session=s1');
    expect(set).toEqual([
      {
        name: 'plinth_session',
        value: '',
        options: { path: '/', maxAge: 0, httpOnly: true, secure: true, sameSite: 'lax' },
      },
    ]);
  });

  it('carries an OAuth sign-in across requests in an HttpOnly cookie of the app', async () => {
    // Request 1 starts the sign-in: the verifier goes into the response as a cookie.
    const first = requestCookies({});
    const url = new URL(
      await createServerClient({ url: apiUrl, publishableKey: 'pk_test', cookies: first.cookies }).auth.signInWithOAuth(
        {
          provider: 'github',
          redirectTo: 'https://app.test/auth/callback',
        },
      ),
    );
    expect(first.set).toHaveLength(1);
    const pkce = first.set[0] as CookieToSet;
    expect(pkce).toMatchObject({
      name: 'plinth.auth.oauth',
      options: { httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: 600 },
    });
    expect(url.href).not.toContain(pkce.value.split('.')[1]);

    // Request 2 is the callback: the browser sends the cookie back.
    mock.use(
      http.post(`${apiUrl}/v1/auth/oauth/token`, () =>
        withCookies({ user, session: null }, 'plinth_session=s1; Path=/; HttpOnly; Secure; SameSite=Lax'),
      ),
    );
    const second = requestCookies({ [pkce.name]: pkce.value });
    const plinth = createServerClient({ url: apiUrl, publishableKey: 'pk_test', cookies: second.cookies });
    await plinth.auth.exchangeCode({ code: 'code_1', state: url.searchParams.get('state') ?? '' });
    expect(await mock.requests[0]?.json()).toEqual({
      code: 'code_1',
      codeVerifier: pkce.value.split('.')[1],
      mode: 'cookie',
    });
    expect(second.set.map(({ name, value, options }) => `${name}=${value} ${options.maxAge ?? ''}`)).toEqual([
      'plinth_session=s1 ',
      'plinth.auth.oauth= 0', // single use: deleted
    ]);
  });
});
