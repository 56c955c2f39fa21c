import { ValidationError } from '@plinth/core';
import { and, not, or, RowCountError } from '@plinth/query';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { answerQueries, sentBodies, serviceClient, untypedClient } from './fixtures/query-client.js';

const mock = useMockServer();
const db = serviceClient();
const anyDb = untypedClient();
const me = { id: 'u1' };

/** Sends the query and returns the one body that went out. */
async function sent(query: PromiseLike<unknown>): Promise<unknown> {
  answerQueries(mock);
  await query;
  const bodies = await sentBodies(mock);
  expect(bodies).toHaveLength(1);
  return bodies[0];
}

describe('select', () => {
  it('sends the example from the docs exactly', async () => {
    const query = db
      .from('posts')
      .select('id, title')
      .where({ author_id: me.id, status: { in: ['draft', 'live'] } })
      .orderBy('created_at', 'desc')
      .limit(20);
    expect(await sent(query)).toEqual({
      table: 'posts',
      op: 'select',
      columns: ['id', 'title'],
      where: {
        and: [
          { column: 'author_id', op: 'eq', value: 'u1' },
          { column: 'status', op: 'in', value: ['draft', 'live'] },
        ],
      },
      order: [{ column: 'created_at', direction: 'desc' }],
      limit: 20,
    });
    const request = mock.requests[0] as Request;
    expect(request.method).toBe('POST');
    expect(new URL(request.url).pathname).toBe('/v1/query');
    expect(request.headers.get('authorization')).toMatch(/^Bearer sk_test_/);
    expect(request.headers.get('x-plinth-act-as')).toBeNull();
  });

  it('resolves to the rows', async () => {
    answerQueries(mock, { rows: [{ id: 'p1', title: 'Hello' }], rowCount: 1 });
    await expect(db.from('posts').select('id, title')).resolves.toEqual([{ id: 'p1', title: 'Hello' }]);
  });

  it.each([
    [undefined, undefined],
    ['*', undefined],
    ['id', ['id']],
    [' id ,title,  views ', ['id', 'title', 'views']],
    [
      ['id', 'views'],
      ['id', 'views'],
    ],
  ] as const)('select(%j) sends columns %j', async (columns, expected) => {
    // biome-ignore lint/suspicious/noExplicitAny: every form of the argument, typed or not.
    const body = (await sent(db.from('posts').select(columns as any))) as Record<string, unknown>;
    expect(body.columns).toEqual(expected);
  });

  it('addresses another schema as schema.table', async () => {
    expect(await sent(db.from('app.settings').select('key'))).toEqual({
      schema: 'app',
      table: 'settings',
      op: 'select',
      columns: ['key'],
    });
  });

  it('sends every operator as one leaf', async () => {
    const body = (await sent(
      db
        .from('posts')
        .select()
        .where({
          id: { eq: 'a', neq: 'b' },
          views: { gt: 1, gte: 2, lt: 3, lte: 4 },
          status: { in: ['live'], notIn: ['deleted'] },
          title: { like: 'A%', ilike: 'a%' },
          published_at: { isNull: false },
          tags: { contains: ['x'], containedBy: ['x', 'y'] },
        }),
    )) as { where: unknown };
    expect(body.where).toEqual({
      and: [
        { column: 'id', op: 'eq', value: 'a' },
        { column: 'id', op: 'neq', value: 'b' },
        { column: 'views', op: 'gt', value: 1 },
        { column: 'views', op: 'gte', value: 2 },
        { column: 'views', op: 'lt', value: 3 },
        { column: 'views', op: 'lte', value: 4 },
        { column: 'status', op: 'in', value: ['live'] },
        { column: 'status', op: 'notIn', value: ['deleted'] },
        { column: 'title', op: 'like', value: 'A%' },
        { column: 'title', op: 'ilike', value: 'a%' },
        { column: 'published_at', op: 'isNull', value: false },
        { column: 'tags', op: 'contains', value: ['x'] },
        { column: 'tags', op: 'containedBy', value: ['x', 'y'] },
      ],
    });
  });

  it('reads null as is-null, arrays as values, and { eq: object } as a jsonb comparison', async () => {
    const body = (await sent(
      db
        .from('posts')
        .select()
        .where({ published_at: null, tags: ['a', 'b'], meta: { eq: { in: 1 } } }),
    )) as { where: unknown };
    expect(body.where).toEqual({
      and: [
        { column: 'published_at', op: 'isNull', value: true },
        { column: 'tags', op: 'eq', value: ['a', 'b'] },
        { column: 'meta', op: 'eq', value: { in: 1 } },
      ],
    });
  });

  it('sends one leaf bare, and ANDs several where() calls into one flat list', async () => {
    expect(((await sent(db.from('posts').select().where({ id: 'a' }))) as { where: unknown }).where).toEqual({
      column: 'id',
      op: 'eq',
      value: 'a',
    });
    mock.requests.length = 0;
    const body = (await sent(
      db.from('posts').select().where({ id: 'a' }).where({ views: 1 }).where({ title: 't' }),
    )) as { where: unknown };
    expect(body.where).toEqual({
      and: [
        { column: 'id', op: 'eq', value: 'a' },
        { column: 'views', op: 'eq', value: 1 },
        { column: 'title', op: 'eq', value: 't' },
      ],
    });
  });

  it('nests and(), or() and not()', async () => {
    const body = (await sent(
      db
        .from('posts')
        .select()
        .where(or({ status: 'live' }, and({ status: 'draft' }, { author_id: me.id }), not({ views: { lt: 1 } }))),
    )) as { where: unknown };
    expect(body.where).toEqual({
      or: [
        { column: 'status', op: 'eq', value: 'live' },
        {
          and: [
            { column: 'status', op: 'eq', value: 'draft' },
            { column: 'author_id', op: 'eq', value: 'u1' },
          ],
        },
        { not: { column: 'views', op: 'lt', value: 1 } },
      ],
    });
  });

  it('keeps a column named like a combinator a column', async () => {
    const body = (await sent(
      anyDb
        .from('things')
        .select()
        .where({ or: 1, not: { eq: 2 } }),
    )) as { where: unknown };
    expect(body.where).toEqual({
      and: [
        { column: 'or', op: 'eq', value: 1 },
        { column: 'not', op: 'eq', value: 2 },
      ],
    });
  });

  it('sends orderBy keys in order, with nulls', async () => {
    const body = (await sent(
      db
        .from('posts')
        .select()
        .orderBy('status')
        .orderBy('created_at', 'desc', { nulls: 'last' })
        .orderBy('id', 'asc', { nulls: 'first' }),
    )) as { order: unknown };
    expect(body.order).toEqual([
      { column: 'status' },
      { column: 'created_at', direction: 'desc', nulls: 'last' },
      { column: 'id', direction: 'asc', nulls: 'first' },
    ]);
  });

  it('sends limit and offset', async () => {
    expect(await sent(db.from('posts').select('id').limit(10).offset(30))).toEqual({
      table: 'posts',
      op: 'select',
      columns: ['id'],
      limit: 10,
      offset: 30,
    });
  });

  it('is immutable: each method returns a new builder and leaves the old one as it was', async () => {
    const base = db.from('posts').select('id').where({ status: 'live' });
    const paged = base.limit(5);
    expect(base.toQuery()).toEqual({
      table: 'posts',
      op: 'select',
      columns: ['id'],
      where: { column: 'status', op: 'eq', value: 'live' },
    });
    expect(paged.toQuery().limit).toBe(5);
    expect(paged).not.toBe(base);
    const mine = base.where({ author_id: me.id });
    expect(base.toQuery().where).toEqual({ column: 'status', op: 'eq', value: 'live' });
    expect(mine.toQuery().where).toEqual({
      and: [
        { column: 'status', op: 'eq', value: 'live' },
        { column: 'author_id', op: 'eq', value: 'u1' },
      ],
    });
  });

  it('sends a request on every await, none before', async () => {
    answerQueries(mock);
    const query = db.from('posts').select();
    expect(mock.requests).toHaveLength(0);
    await query;
    await query;
    expect(mock.requests).toHaveLength(2);
  });

  it('passes execute() options to the transport (an aborted signal fails the call)', async () => {
    answerQueries(mock);
    const controller = new AbortController();
    controller.abort();
    await expect(db.from('posts').select().execute({ signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
  });
});

describe('single and maybeSingle', () => {
  it('single() asks for at most 2 rows and resolves to the one row', async () => {
    answerQueries(mock, { rows: [{ id: 'p1' }], rowCount: 1 });
    await expect(db.from('posts').select('id').where({ id: 'p1' }).single()).resolves.toEqual({ id: 'p1' });
    expect(((await sentBodies(mock))[0] as { limit: number }).limit).toBe(2);
  });

  it('single() keeps a smaller limit', async () => {
    answerQueries(mock, { rows: [{ id: 'p1' }], rowCount: 1 });
    await db.from('posts').select().limit(1).single();
    expect(((await sentBodies(mock))[0] as { limit: number }).limit).toBe(1);
  });

  it('single() throws RowCountError for no row and for several', async () => {
    answerQueries(mock, { rows: [], rowCount: 0 });
    const none = await db
      .from('posts')
      .select()
      .single()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(none).toBeInstanceOf(RowCountError);
    expect(none).toMatchObject({ code: 'unexpected_row_count', details: { rows: 0 } });
    answerQueries(mock, { rows: [{ id: 'a' }, { id: 'b' }], rowCount: 2 });
    await expect(db.from('posts').select().single()).rejects.toMatchObject({
      name: 'RowCountError',
      details: { rows: 2 },
      message: expect.stringContaining('expected exactly one row, got several'),
    });
  });

  it('maybeSingle() resolves to null for none, the row for one, and throws for several', async () => {
    answerQueries(mock, { rows: [], rowCount: 0 });
    await expect(db.from('posts').select().maybeSingle()).resolves.toBeNull();
    answerQueries(mock, { rows: [{ id: 'a' }], rowCount: 1 });
    await expect(db.from('posts').select().maybeSingle()).resolves.toEqual({ id: 'a' });
    answerQueries(mock, { rows: [{ id: 'a' }, { id: 'b' }], rowCount: 2 });
    await expect(db.from('posts').select().maybeSingle()).rejects.toBeInstanceOf(RowCountError);
    expect(((await sentBodies(mock))[0] as { limit: number }).limit).toBe(2);
  });
});

describe('count and page', () => {
  it('count() sends count and limit 0, and resolves to the number', async () => {
    answerQueries(mock, { rows: [], rowCount: 0, count: 42 });
    await expect(db.from('posts').select().where({ status: 'live' }).count()).resolves.toBe(42);
    expect((await sentBodies(mock))[0]).toEqual({
      table: 'posts',
      op: 'select',
      where: { column: 'status', op: 'eq', value: 'live' },
      count: 'exact',
      limit: 0,
    });
  });

  it("count('estimated') asks for an estimate", async () => {
    answerQueries(mock, { rows: [], rowCount: 0, count: 40 });
    await db.from('posts').select().count('estimated');
    expect(((await sentBodies(mock))[0] as { count: string }).count).toBe('estimated');
  });

  it('a count answer without a count is a ProtocolError', async () => {
    answerQueries(mock, { rows: [], rowCount: 0 });
    await expect(db.from('posts').select().count()).rejects.toMatchObject({
      name: 'ProtocolError',
      code: 'invalid_response',
    });
  });

  it('page() sends limit and after, and resolves to rows and nextCursor', async () => {
    answerQueries(mock, { rows: [{ id: 'a' }], rowCount: 1, nextCursor: 'c2' });
    const first = await db.from('posts').select('id').orderBy('id').page({ limit: 1 });
    expect(first).toEqual({ rows: [{ id: 'a' }], nextCursor: 'c2' });
    answerQueries(mock, { rows: [{ id: 'b' }], rowCount: 1, nextCursor: null, count: 2 });
    const second = await db
      .from('posts')
      .select('id')
      .orderBy('id')
      .page({ limit: 1, after: first.nextCursor, count: 'exact' });
    expect(second).toEqual({ rows: [{ id: 'b' }], nextCursor: null, count: 2 });
    const bodies = await sentBodies(mock);
    expect(bodies[0]).toEqual({ table: 'posts', op: 'select', columns: ['id'], order: [{ column: 'id' }], limit: 1 });
    expect(bodies[1]).toEqual({
      table: 'posts',
      op: 'select',
      columns: ['id'],
      order: [{ column: 'id' }],
      limit: 1,
      after: 'c2',
      count: 'exact',
    });
  });

  it('page() reads a missing nextCursor as the last page', async () => {
    answerQueries(mock, { rows: [], rowCount: 0 });
    await expect(db.from('posts').select().page({ limit: 5, after: null })).resolves.toEqual({
      rows: [],
      nextCursor: null,
    });
  });
});

describe('changes', () => {
  it('insert sends one row or several, and resolves to the row count', async () => {
    answerQueries(mock, { rows: [], rowCount: 1 });
    await expect(db.from('posts').insert({ author_id: 'u1', title: 'Hi' })).resolves.toEqual({ rowCount: 1 });
    await db.from('posts').insert([
      { author_id: 'u1', title: 'A' },
      { author_id: 'u1', title: 'B' },
    ]);
    expect(await sentBodies(mock)).toEqual([
      { table: 'posts', op: 'insert', values: { author_id: 'u1', title: 'Hi' } },
      {
        table: 'posts',
        op: 'insert',
        values: [
          { author_id: 'u1', title: 'A' },
          { author_id: 'u1', title: 'B' },
        ],
      },
    ]);
  });

  it('returning() gives the rows back, all columns or the ones named', async () => {
    answerQueries(mock, { rows: [{ id: 'p1' }], rowCount: 1 });
    await expect(db.from('posts').insert({ author_id: 'u1', title: 'Hi' }).returning('id').single()).resolves.toEqual({
      id: 'p1',
    });
    await db.from('posts').insert({ author_id: 'u1', title: 'Hi' }).returning();
    const bodies = await sentBodies(mock);
    expect(bodies[0]).toEqual({
      table: 'posts',
      op: 'insert',
      values: { author_id: 'u1', title: 'Hi' },
      returning: ['id'],
    });
    expect((bodies[1] as { returning: unknown }).returning).toEqual(['*']);
  });

  it('upsert sends onConflict and ignoreDuplicates', async () => {
    answerQueries(mock, { rows: [], rowCount: 1 });
    await db
      .from('posts')
      .upsert({ id: 'p1', author_id: 'u1', title: 'Hi' }, { onConflict: 'id', ignoreDuplicates: true });
    await db.from('posts').upsert([{ author_id: 'u1', title: 'Hi' }], { onConflict: ['author_id', 'title'] });
    await db.from('posts').upsert({ author_id: 'u1', title: 'Hi' });
    expect(await sentBodies(mock)).toEqual([
      {
        table: 'posts',
        op: 'upsert',
        values: { id: 'p1', author_id: 'u1', title: 'Hi' },
        onConflict: ['id'],
        ignoreDuplicates: true,
      },
      { table: 'posts', op: 'upsert', values: [{ author_id: 'u1', title: 'Hi' }], onConflict: ['author_id', 'title'] },
      { table: 'posts', op: 'upsert', values: { author_id: 'u1', title: 'Hi' } },
    ]);
  });

  it('update and delete send where, returning and all', async () => {
    answerQueries(mock, { rows: [{ id: 'p1', title: 'New' }], rowCount: 1 });
    await expect(
      db.from('posts').update({ title: 'New' }).where({ id: 'p1' }).returning('id, title').maybeSingle(),
    ).resolves.toEqual({ id: 'p1', title: 'New' });
    await db.from('posts').update({ status: 'deleted' }).all();
    await db.from('posts').delete().where({ status: 'deleted' });
    await db.from('posts').delete().returning('id').where({ id: 'p1' });
    await db.from('posts').delete().all();
    expect(await sentBodies(mock)).toEqual([
      {
        table: 'posts',
        op: 'update',
        values: { title: 'New' },
        where: { column: 'id', op: 'eq', value: 'p1' },
        returning: ['id', 'title'],
      },
      { table: 'posts', op: 'update', values: { status: 'deleted' }, all: true },
      { table: 'posts', op: 'delete', where: { column: 'status', op: 'eq', value: 'deleted' } },
      { table: 'posts', op: 'delete', returning: ['id'], where: { column: 'id', op: 'eq', value: 'p1' } },
      { table: 'posts', op: 'delete', all: true },
    ]);
  });

  it('refuses update and delete without where or all(), before any request', async () => {
    answerQueries(mock);
    for (const change of [
      db.from('posts').update({ title: 'x' }),
      db.from('posts').delete(),
      db.from('posts').delete().returning(),
    ]) {
      expect(() => change.execute()).toThrow(ValidationError);
      await expect(change).rejects.toMatchObject({
        code: 'unscoped_change',
        message: expect.stringContaining('add .where(...), or .all() if that is meant'),
      });
    }
    expect(mock.requests).toHaveLength(0);
  });
});

describe('refused before any request', () => {
  it.each([
    [
      'undefined in where',
      () =>
        db
          .from('posts')
          .select()
          .where({ author_id: undefined as unknown as string }),
    ],
    ['an empty where', () => db.from('posts').select().where({})],
    [
      'an unknown operator',
      () =>
        anyDb
          .from('things')
          .select()
          .where({ a: { between: [1, 2] } }),
    ],
    ['empty operators', () => anyDb.from('things').select().where({ a: {} })],
    [
      'in without an array',
      () =>
        anyDb
          .from('things')
          .select()
          .where({ a: { in: 1 } }),
    ],
    ['an empty or()', () => or()],
    ['a negative limit', () => db.from('posts').select().limit(-1)],
    ['a fractional offset', () => db.from('posts').select().offset(1.5)],
    ['an empty column list', () => db.from('posts').select('id,,title' as 'id')],
    ['an empty insert', () => db.from('posts').insert([])],
    ['a non-object insert', () => anyDb.from('things').insert(['x'] as unknown as Record<string, unknown>[])],
    ['an empty update', () => db.from('posts').update({})],
    ['an empty table name', () => db.from('' as 'posts')],
  ])('%s', (_, build) => {
    expect(build).toThrow(ValidationError);
    expect(mock.requests).toHaveLength(0);
  });

  it('single() on a change asks for the changed rows back', () => {
    expect(
      (anyDb.from('things').insert({ a: 1 }) as unknown as { single(): { toQuery(): unknown } }).single().toQuery(),
    ).toEqual({ table: 'things', op: 'insert', values: { a: 1 }, returning: ['*'] });
  });

  it('names the column and the fix', () => {
    expect(() =>
      db
        .from('posts')
        .select()
        .where({ author_id: undefined as unknown as string }),
    ).toThrow(
      /from\("posts"\)\.select\(\): where "author_id" is undefined; compare with null, or leave the column out\. No request was made\./,
    );
  });
});

describe('errors from the server', () => {
  it('map to PlinthError subclasses', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/query`, () =>
        HttpResponse.json(
          {
            error: {
              code: 'validation_failed',
              message: 'unknown column "nope"',
              details: { field: 'columns.0' },
              requestId: 'r',
            },
          },
          { status: 400 },
        ),
      ),
    );
    await expect(db.from('posts').select()).rejects.toMatchObject({
      name: 'ValidationError',
      code: 'validation_failed',
      details: { field: 'columns.0' },
    });
  });
});
