import { createTransport, ValidationError } from '@plinth/core';
import { actAsValue, createQueryClient } from '@plinth/query';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { answerQueries, serviceClient, serviceKey } from './fixtures/query-client.js';

const mock = useMockServer();
const db = serviceClient();
const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln';

describe('as()', () => {
  it('sends the access token in x-plinth-act-as, with the service key, on every data call', async () => {
    answerQueries(mock);
    mock.use(
      http.post(`${apiUrl}/v1/sql`, () => HttpResponse.json({ rows: [], columns: [], rowCount: 0, command: 'SELECT' })),
      http.post(`${apiUrl}/v1/batch`, () => HttpResponse.json({ results: [{ rows: [], rowCount: 0 }] })),
    );
    const user = db.as(token);
    await user.from('posts').select();
    await user.from('posts').insert({ author_id: 'u1', title: 't' });
    await user.sql`select 1`;
    await user.batch([user.from('posts').select()]);
    expect(mock.requests).toHaveLength(4);
    for (const request of mock.requests) {
      expect(request.headers.get('x-plinth-act-as')).toBe(token);
      expect(request.headers.get('authorization')).toMatch(/^Bearer sk_test_/);
    }
  });

  it('takes a session object, anon, or an incoming request with the Plinth access cookie', () => {
    expect(actAsValue({ accessToken: token })).toBe(token);
    expect(actAsValue('anon')).toBe('anon');
    expect(actAsValue({ headers: new Headers({ cookie: `theme=dark; __Host-plinth-access=${token}` }) })).toBe(token);
    expect(actAsValue({ headers: { cookie: `__Host-plinth-access=${token}; other=1` } })).toBe(token);
    expect(actAsValue({ headers: { Cookie: [`__Host-plinth-access=${token}`] } })).toBe(token);
    expect(actAsValue(new Request('https://app.test', { headers: { cookie: `__Host-plinth-access=${token}` } }))).toBe(
      token,
    );
    // No cookie: nobody is signed in.
    expect(actAsValue({ headers: new Headers() })).toBe('anon');
    expect(actAsValue({ headers: { cookie: '__Host-plinth-refresh=r' } })).toBe('anon');
  });

  it('reads only the cookie the server sets: a bare plinth-access, which a sibling subdomain could plant, is ignored', () => {
    expect(actAsValue({ headers: { cookie: `plinth-access=${token}` } })).toBe('anon');
    expect(actAsValue({ headers: { cookie: `plinth-access=planted; __Host-plinth-access=${token}` } })).toBe(token);
    expect(actAsValue({ headers: { cookie: `__Host-plinth-access=${token}; plinth-access=planted` } })).toBe(token);
    expect(actAsValue(new Request('https://app.test', { headers: { cookie: `plinth-access=${token}` } }))).toBe('anon');
    // Look-alike names are not it either.
    expect(actAsValue({ headers: { cookie: `__host-plinth-access=${token}; x__Host-plinth-access=${token}` } })).toBe(
      'anon',
    );
  });

  it('with secureCookies: false (a plain-http server), reads only plinth-access', async () => {
    expect(actAsValue({ headers: { cookie: `plinth-access=${token}` } }, { secureCookies: false })).toBe(token);
    expect(actAsValue({ headers: { cookie: `__Host-plinth-access=${token}` } }, { secureCookies: false })).toBe('anon');
    answerQueries(mock);
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey, retry: false });
    const plain = createQueryClient(transport, { secureCookies: false });
    await plain
      .as({ headers: { cookie: `plinth-access=${token}` } })
      .from('posts')
      .select();
    expect(mock.requests[0]?.headers.get('x-plinth-act-as')).toBe(token);
  });

  it('acts as anon with the literal anon', async () => {
    answerQueries(mock);
    await db.as('anon').from('posts').select();
    expect(mock.requests[0]?.headers.get('x-plinth-act-as')).toBe('anon');
  });

  it('cannot be overridden by per-call headers, and the unscoped client sends none', async () => {
    answerQueries(mock);
    await db
      .as(token)
      .from('posts')
      .select()
      .execute({ headers: { 'X-Plinth-Act-As': 'anon' } });
    await db
      .from('posts')
      .select()
      .execute({ headers: { 'x-plinth-act-as': 'forged' } });
    expect(mock.requests[0]?.headers.get('x-plinth-act-as')).toBe(token);
    expect(mock.requests[1]?.headers.get('x-plinth-act-as')).toBeNull();
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty token', ''],
    ['an empty session', { accessToken: '' }],
    ['a number', 42],
    ['a service key', 'sk_live_abc'],
    ['a publishable key', 'pk_live_abc'],
    ['an API key', 'ak_live_abc'],
    ['a Bearer-prefixed token', `Bearer ${token}`],
    ['a token with a newline', `${token}\r\nx-evil: 1`],
  ])('refuses %s before any request', (_, who) => {
    expect(() => db.as(who as string)).toThrow(ValidationError);
    expect(mock.requests).toHaveLength(0);
  });
});
