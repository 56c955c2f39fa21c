import { ValidationError } from '@plinth/core';
import { sql } from '@plinth/query';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { sentBodies, serviceClient } from './fixtures/query-client.js';

const mock = useMockServer();
const db = serviceClient();
const me = { id: 'u1' };
const answer = { rows: [{ id: 'p1' }], columns: [{ name: 'id', type: 'uuid' }], rowCount: 1, command: 'SELECT' };

describe('the sql tag', () => {
  it('turns values into numbered parameters, never text', () => {
    expect(db.sql`select * from posts where author_id = ${me.id}`.toQuery()).toEqual({
      text: 'select * from posts where author_id = $1',
      params: ['u1'],
    });
    expect(sql`select ${1}, ${'two'}, ${null}, ${true}, ${[1, 2]}, ${{ a: 1 }}`.toQuery()).toEqual({
      text: 'select $1, $2, $3, $4, $5, $6',
      params: [1, 'two', null, true, [1, 2], { a: 1 }],
    });
  });

  it('keeps hostile strings as parameters', () => {
    const hostile = [
      "'; drop table posts; --",
      '$1',
      '" or 1=1 --',
      "\\'; select pg_sleep(10); --",
      '$$; drop table posts; $$',
      '\u0000',
    ];
    for (const value of hostile) {
      const { text, params } = sql`select * from posts where title = ${value}`.toQuery();
      expect(text).toBe('select * from posts where title = $1');
      expect(params).toEqual([value]);
    }
  });

  it('inlines nested fragments and renumbers their parameters', () => {
    const mine = sql`author_id = ${me.id}`;
    const live = sql`status = ${'live'} and views > ${10}`;
    const query = sql`select * from posts where ${live} and ${mine} and id <> ${'x'}`;
    expect(query.toQuery()).toEqual({
      text: 'select * from posts where status = $1 and views > $2 and author_id = $3 and id <> $4',
      params: ['live', 10, 'u1', 'x'],
    });
    // Deeper nesting, and the same fragment used twice: each use gets its own numbers.
    const twice = sql`${mine} or (${sql`${mine} and ${sql`deep = ${'d'}`}`})`;
    expect(twice.toQuery()).toEqual({
      text: 'author_id = $1 or (author_id = $2 and deep = $3)',
      params: ['u1', 'u1', 'd'],
    });
    // A fragment renders the same on its own, however it is used elsewhere.
    expect(mine.toQuery()).toEqual({ text: 'author_id = $1', params: ['u1'] });
  });

  it('mixes client statements and plain fragments', () => {
    expect(db.sql`select ${db.sql`${1}`}, ${sql`${2}`}`.toQuery()).toEqual({ text: 'select $1, $2', params: [1, 2] });
  });

  it('quotes identifiers with sql.ident, doubling embedded quotes', () => {
    expect(sql`select * from ${sql.ident('posts')}`.toQuery().text).toBe('select * from "posts"');
    expect(sql`select * from ${sql.ident('app', 'posts')}`.toQuery().text).toBe('select * from "app"."posts"');
    expect(sql`select ${sql.ident('we"ird; drop table x; --')}`.toQuery()).toEqual({
      text: 'select "we""ird; drop table x; --"',
      params: [],
    });
    expect(sql`select ${sql.ident('a.b')}`.toQuery().text).toBe('select "a.b"');
    expect(sql`select ${sql.ident('$1')} where x = ${1}`.toQuery()).toEqual({
      text: 'select "$1" where x = $1',
      params: [1],
    });
  });

  it('refuses identifiers that cannot be one', () => {
    expect(() => sql.ident('')).toThrow(ValidationError);
    expect(() => sql.ident('a\u0000b')).toThrow(ValidationError);
    expect(() => sql.ident('x'.repeat(64))).toThrow(ValidationError);
    expect(() => sql.ident('é'.repeat(32))).toThrow(ValidationError); // 64 bytes
    expect(() => sql.ident()).toThrow(ValidationError);
    expect(() => sql.ident('x'.repeat(63))).not.toThrow();
  });

  it('joins values and fragments with sql.join', () => {
    const ids = ['a', 'b', 'c'];
    expect(sql`select * from posts where id in (${sql.join(ids)})`.toQuery()).toEqual({
      text: 'select * from posts where id in ($1, $2, $3)',
      params: ['a', 'b', 'c'],
    });
    const columns = sql.join(['id', 'title'].map((name) => sql.ident(name)));
    const conditions = sql.join([sql`a = ${1}`, sql`b = ${2}`], sql` and `);
    expect(sql`select ${columns} from posts where ${conditions}`.toQuery()).toEqual({
      text: 'select "id", "title" from posts where a = $1 and b = $2',
      params: [1, 2],
    });
    expect(sql`select ${sql.join([])}1`.toQuery()).toEqual({ text: 'select 1', params: [] });
  });

  it('refuses what would not be a parameter, before any request', () => {
    expect(() => db.sql`select ${undefined}`).toThrow(/value 1 is undefined; pass null for SQL NULL/);
    expect(() => sql`select ${() => 1}`).toThrow(ValidationError);
    expect(() => sql`select ${Symbol('x')}`).toThrow(ValidationError);
    expect(() => sql`select ${Promise.resolve(1)}`).toThrow(ValidationError);
    expect(() => sql`select ${db.from('posts').select()}`).toThrow(ValidationError);
    expect(() => sql.join([undefined])).toThrow(ValidationError);
    expect(() => db.sql`select * from posts where id = $1`).toThrow(/hand-written placeholder \(\$1\)/);
    // @ts-expect-error sql is a tag, not a function of a string
    expect(() => db.sql('select 1')).toThrow(/tagged template/);
    expect(() => db.sql` `.execute()).toThrow(/the statement is empty/);
    expect(mock.requests).toHaveLength(0);
  });

  it('runs via POST /v1/sql when awaited, and resolves to the result', async () => {
    mock.use(http.post(`${apiUrl}/v1/sql`, () => HttpResponse.json(answer)));
    const result = await db.sql<{ id: string }>`select id from posts where author_id = ${me.id} limit ${1}`;
    expect(result).toEqual(answer);
    expect(await sentBodies(mock)).toEqual([
      { text: 'select id from posts where author_id = $1 limit $2', params: ['u1', 1] },
    ]);
    expect(mock.requests[0]?.headers.get('authorization')).toMatch(/^Bearer sk_test_/);
  });

  it('sends nothing until awaited, and again on each await', async () => {
    mock.use(http.post(`${apiUrl}/v1/sql`, () => HttpResponse.json(answer)));
    const statement = db.sql`select 1`;
    expect(mock.requests).toHaveLength(0);
    await statement;
    await statement.execute();
    expect(mock.requests).toHaveLength(2);
  });

  it('a plain fragment cannot be awaited into a request', async () => {
    const fragment = sql`select 1` as unknown as PromiseLike<unknown>;
    expect(typeof (fragment as { then?: unknown }).then).toBe('undefined');
  });
});
