import { createClient, createServerClient, MissingServiceKeyError, or, RowCountError, sql } from '@plinth/client';
import { HttpResponse, http } from 'msw';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Database } from '../../../test/fixtures/example-database.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';
const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln';

function answerQueries(answer: object = { rows: [], rowCount: 0 }) {
  mock.use(http.post(`${apiUrl}/v1/query`, () => HttpResponse.json(answer)));
}

describe('plinth.from / sql / batch / as', () => {
  it('run over the client’s transport, with its service key', async () => {
    answerQueries({ rows: [{ id: 'p1' }], rowCount: 1 });
    mock.use(
      http.post(`${apiUrl}/v1/sql`, () => HttpResponse.json({ rows: [], columns: [], rowCount: 0, command: 'SELECT' })),
      http.post(`${apiUrl}/v1/batch`, () => HttpResponse.json({ results: [{ rows: [{ id: 'p1' }], rowCount: 1 }] })),
    );
    const plinth = createClient<Database>({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    await expect(
      plinth
        .from('posts')
        .select('id')
        .where(or({ status: 'live' }, { views: { gt: 1 } })),
    ).resolves.toEqual([{ id: 'p1' }]);
    await plinth.sql`select ${sql.ident('posts')}`;
    await expect(plinth.batch([plinth.from('posts').select('id').single()])).resolves.toEqual([{ id: 'p1' }]);
    await plinth.as(token).from('posts').select();
    expect(mock.requests.map((request) => new URL(request.url).pathname)).toEqual([
      '/v1/query',
      '/v1/sql',
      '/v1/batch',
      '/v1/query',
    ]);
    for (const request of mock.requests) expect(request.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
    expect(mock.requests[3]?.headers.get('x-plinth-act-as')).toBe(token);
  });

  it('can be taken off the client (no `this`)', async () => {
    answerQueries({ rows: [], rowCount: 0 });
    const { from } = createClient({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    await expect(from('posts').select().maybeSingle()).resolves.toBeNull();
    answerQueries({ rows: [], rowCount: 0 });
    await expect(from('posts').select().single()).rejects.toBeInstanceOf(RowCountError);
  });

  it('throw MissingServiceKeyError synchronously on a browser-style client, with zero requests', async () => {
    const plinth = createClient<Database>({ url: apiUrl, publishableKey: 'pk_test' });
    // Reading the methods is fine (spreading or logging a client must not throw); calling them is not.
    expect(typeof plinth.from).toBe('function');
    expect(() => plinth.from('posts').select()).toThrow(MissingServiceKeyError);
    expect(() => plinth.from('posts').insert({ author_id: 'u1', title: 't' })).toThrow(MissingServiceKeyError);
    expect(() => plinth.from('posts').update({ title: 't' }).where({ id: 'p1' })).toThrow(MissingServiceKeyError);
    expect(() => plinth.from('posts').upsert({ author_id: 'u1', title: 't' })).toThrow(MissingServiceKeyError);
    expect(() => plinth.from('posts').delete().where({ id: 'p1' })).toThrow(MissingServiceKeyError);
    expect(() => plinth.sql`select 1`).toThrow(MissingServiceKeyError);
    expect(() => plinth.batch([sql`select 1`])).toThrow(MissingServiceKeyError);
    expect(() => plinth.as('anon')).toThrow(MissingServiceKeyError);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });

  it('createServerClient: as({ headers }) acts as the user of the request’s access cookie', async () => {
    answerQueries();
    const incoming = new Headers({ cookie: `__Host-plinth-access=${token}; theme=dark` });
    const plinth = createServerClient<Database>({
      url: apiUrl,
      publishableKey: 'pk_test',
      serviceKey,
      cookies: { getAll: () => [], setAll: () => {} },
    });
    await plinth.as({ headers: incoming }).from('posts').select('id');
    expect(mock.requests[0]?.headers.get('x-plinth-act-as')).toBe(token);
    expect(mock.requests[0]?.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
  });

  it('createServerClient: as({ headers }) ignores a bare plinth-access cookie, unless secureCookies is false', async () => {
    answerQueries();
    const planted = new Headers({ cookie: `plinth-access=${token}` });
    const options = {
      url: apiUrl,
      publishableKey: 'pk_test',
      serviceKey,
      cookies: { getAll: () => [], setAll: () => {} },
    };
    await createServerClient<Database>(options).as({ headers: planted }).from('posts').select('id');
    expect(mock.requests[0]?.headers.get('x-plinth-act-as')).toBe('anon');
    await createServerClient<Database>({ ...options, secureCookies: false })
      .as({ headers: planted })
      .from('posts')
      .select('id');
    expect(mock.requests[1]?.headers.get('x-plinth-act-as')).toBe(token);
  });

  it('are typed by the Database type parameter', () => {
    const plinth = createClient<Database>({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    expectTypeOf(plinth.from('posts').select('id, views')).resolves.toEqualTypeOf<{ id: string; views: number }[]>();
    // @ts-expect-error no such column
    expect(() => plinth.from('posts').select('id, nope')).not.toThrow();
    const untyped = createClient({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    expectTypeOf(untyped.from('anything').select()).resolves.toEqualTypeOf<Record<string, unknown>[]>();
  });
});
