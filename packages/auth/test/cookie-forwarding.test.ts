import {
  type CookieMethods,
  type CookieToSet,
  cookieForwardingFetch,
  cookieHeader,
  cookieOf,
  parseSetCookie,
} from '@plinth/auth';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();

describe('parseSetCookie', () => {
  it('reads the name, the value and every attribute', () => {
    const header =
      '__Host-plinth_session=abc.def; Path=/; Domain=.plinth.test; Max-Age=3600; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Secure; HttpOnly; SameSite=Lax';
    expect(parseSetCookie(header)).toEqual({
      name: '__Host-plinth_session',
      value: 'abc.def',
      options: {
        path: '/',
        domain: 'plinth.test',
        maxAge: 3600,
        expires: new Date('2026-10-21T07:28:00.000Z'),
        secure: true,
        httpOnly: true,
        sameSite: 'lax',
      },
    });
  });

  it('matches attribute names case-insensitively and normalises SameSite', () => {
    expect(parseSetCookie('a=1; path=/x; SECURE; httponly; samesite=STRICT')?.options).toEqual({
      path: '/x',
      secure: true,
      httpOnly: true,
      sameSite: 'strict',
    });
    expect(parseSetCookie('a=1; SameSite=None; Secure')?.options).toEqual({ sameSite: 'none', secure: true });
  });

  it('reads a deletion (Max-Age=0, an empty value) as one', () => {
    expect(parseSetCookie('sid=; Path=/; Max-Age=0')).toEqual({
      name: 'sid',
      value: '',
      options: { path: '/', maxAge: 0 },
    });
  });

  it('ignores attributes it cannot read instead of inventing values', () => {
    expect(parseSetCookie('a=1; Max-Age=soon; Expires=never; SameSite=sometimes; Priority=High')?.options).toEqual({});
  });

  it('unquotes and percent-decodes the value (as frameworks expect), keeping "=" inside it', () => {
    expect(parseSetCookie('a="x%20y"')?.value).toBe('x y');
    expect(parseSetCookie('a=b64==; Path=/')?.value).toBe('b64==');
    expect(parseSetCookie('a=100%')?.value).toBe('100%');
  });

  it('returns undefined for a header without a cookie name', () => {
    expect(parseSetCookie('novalue')).toBeUndefined();
    expect(parseSetCookie('=v; Path=/')).toBeUndefined();
  });
});

describe('cookieHeader and cookieOf', () => {
  it('joins cookies, encoding only what a cookie value may not hold', () => {
    expect(
      cookieHeader([
        { name: 'a', value: 'b64==' },
        { name: 'b', value: 'x y;z,"é"' },
      ]),
    ).toBe('a=b64==; b=x%20y%3Bz%2C%22%C3%A9%22');
    expect(cookieHeader([])).toBe('');
  });

  it('round-trips through parseSetCookie', () => {
    const value = 'x y;z,"é"';
    const [pair = ''] = cookieHeader([{ name: 'a', value }]).split('; ');
    expect(parseSetCookie(pair)?.value).toBe(value);
  });

  it('reads the Cookie header of a Headers or of Node’s IncomingHttpHeaders', () => {
    expect(cookieOf(new Headers({ cookie: 'a=1' }))).toBe('a=1');
    expect(cookieOf(new Headers())).toBeUndefined();
    expect(cookieOf({ Cookie: 'a=1', host: 'x' })).toBe('a=1');
    expect(cookieOf({ cookie: ['a=1', 'b=2'] })).toBe('a=1; b=2');
    expect(cookieOf({ host: 'x' })).toBeUndefined();
  });
});

function jar(initial: { name: string; value: string }[]) {
  const set: CookieToSet[][] = [];
  const cookies: CookieMethods = { getAll: () => initial, setAll: (list) => void set.push(list) };
  return { cookies, set };
}

describe('cookieForwardingFetch', () => {
  it('sends the incoming cookies to the Plinth origin and relays every Set-Cookie of the answer', async () => {
    mock.use(
      http.post(
        `${apiUrl}/v1/auth/sign-in`,
        () =>
          new HttpResponse('{}', {
            headers: [
              ['content-type', 'application/json'],
              ['set-cookie', 'plinth_session=new1; Path=/; HttpOnly; Secure; SameSite=Lax'],
              ['set-cookie', 'plinth_refresh=new2; Path=/v1/auth; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly'],
            ],
          }),
      ),
    );
    const { cookies, set } = jar([
      { name: 'plinth_session', value: 'old' },
      { name: 'theme', value: 'dark mode' },
    ]);
    const forwardingFetch = cookieForwardingFetch(apiUrl, cookies);
    const response = await forwardingFetch(`${apiUrl}/v1/auth/sign-in`, { method: 'POST', body: '{"a":1}' });

    expect(response.status).toBe(200);
    expect(mock.requests[0]?.headers.get('cookie')).toBe('plinth_session=old; theme=dark%20mode');
    expect(await mock.requests[0]?.text()).toBe('{"a":1}');
    expect(set).toEqual([
      [
        {
          name: 'plinth_session',
          value: 'new1',
          options: { path: '/', httpOnly: true, secure: true, sameSite: 'lax' },
        },
        {
          name: 'plinth_refresh',
          value: 'new2',
          options: { path: '/v1/auth', expires: new Date('2026-10-21T07:28:00.000Z'), httpOnly: true },
        },
      ],
    ]);
  });

  it('sends no cookie to, and takes none from, any other origin', async () => {
    mock.use(
      http.get(
        'https://storage.elsewhere.test/file',
        () => new HttpResponse('x', { headers: [['set-cookie', 'tracker=1; Path=/']] }),
      ),
    );
    const { cookies, set } = jar([{ name: 'plinth_session', value: 'secret' }]);
    await cookieForwardingFetch(apiUrl, cookies)('https://storage.elsewhere.test/file');
    expect(mock.requests[0]?.headers.get('cookie')).toBeNull();
    expect(set).toEqual([]);
  });

  it('keeps a Cookie header the caller forwarded explicitly, and calls setAll only when there is something to set', async () => {
    mock.use(http.get(`${apiUrl}/v1/auth/me`, () => HttpResponse.json({})));
    const { cookies, set } = jar([{ name: 'plinth_session', value: 'from-jar' }]);
    await cookieForwardingFetch(apiUrl, cookies)(`${apiUrl}/v1/auth/me`, {
      headers: { cookie: 'plinth_session=explicit' },
    });
    expect(mock.requests[0]?.headers.get('cookie')).toBe('plinth_session=explicit');
    expect(set).toEqual([]);
  });

  it('reads a joined Set-Cookie where the fetch has no getSetCookie(), without splitting dates', async () => {
    const joined = 'a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, b=2; HttpOnly';
    const headers = new Headers({ 'set-cookie': joined });
    Object.defineProperty(headers, 'getSetCookie', { value: undefined });
    const baseFetch = async () => ({ headers }) as Response;
    const { cookies, set } = jar([]);
    await cookieForwardingFetch(apiUrl, cookies, baseFetch)(`${apiUrl}/v1/auth/refresh`);
    expect(set[0]?.map(({ name, value }) => `${name}=${value}`)).toEqual(['a=1', 'b=2']);
    expect(set[0]?.[0]?.options.expires).toEqual(new Date('2026-10-21T07:28:00.000Z'));
  });
});
