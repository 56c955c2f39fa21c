import { ValidationError } from '@plinth/core';
import { RowCountError, sql } from '@plinth/query';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { sentBodies, serviceClient } from './fixtures/query-client.js';

const mock = useMockServer();
const db = serviceClient();

const sqlAnswer = { rows: [{ n: 1 }], columns: [{ name: 'n', type: 'int4' }], rowCount: 1, command: 'SELECT' };

function answerBatch(results: unknown[]) {
  mock.use(http.post(`${apiUrl}/v1/batch`, () => HttpResponse.json({ results })));
}

describe('batch', () => {
  it('sends every step in one request, and gives each step what awaiting it would', async () => {
    answerBatch([
      { rows: [{ id: 'p1' }], rowCount: 1 },
      { rows: [], rowCount: 3 },
      sqlAnswer,
      { rows: [], rowCount: 0, count: 7 },
      sqlAnswer,
    ]);
    const results = await db.batch([
      db.from('posts').insert({ author_id: 'u1', title: 'Hi' }).returning('id').single(),
      db.from('posts').update({ status: 'live' }).where({ author_id: 'u1' }),
      db.sql`select ${1} as n`,
      db.from('posts').select().count(),
      sql`select ${sql.ident('n')} from t where x = ${'y'}`,
    ]);
    expect(results).toEqual([{ id: 'p1' }, { rowCount: 3 }, sqlAnswer, 7, sqlAnswer]);
    expect(mock.requests).toHaveLength(1);
    expect(new URL((mock.requests[0] as Request).url).pathname).toBe('/v1/batch');
    expect(await sentBodies(mock)).toEqual([
      {
        steps: [
          {
            kind: 'query',
            query: { table: 'posts', op: 'insert', values: { author_id: 'u1', title: 'Hi' }, returning: ['id'] },
          },
          {
            kind: 'query',
            query: {
              table: 'posts',
              op: 'update',
              values: { status: 'live' },
              where: { column: 'author_id', op: 'eq', value: 'u1' },
            },
          },
          { kind: 'sql', sql: { text: 'select $1 as n', params: [1] } },
          { kind: 'query', query: { table: 'posts', op: 'select', count: 'exact', limit: 0 } },
          { kind: 'sql', sql: { text: 'select "n" from t where x = $1', params: ['y'] } },
        ],
      },
    ]);
  });

  it('does not send the steps on their own', async () => {
    answerBatch([{ rows: [], rowCount: 0 }]);
    const step = db.from('posts').select();
    await db.batch([step]);
    expect(mock.requests).toHaveLength(1);
  });

  it('checks single() after the batch, with a RowCountError', async () => {
    answerBatch([{ rows: [], rowCount: 0 }]);
    await expect(db.batch([db.from('posts').select().where({ id: 'none' }).single()])).rejects.toBeInstanceOf(
      RowCountError,
    );
  });

  it('refuses, before any request: no steps, a non-step, an unscoped change, an awaited step', () => {
    expect(() => db.batch([])).toThrow(ValidationError);
    // @ts-expect-error a promise is not a step
    expect(() => db.batch([Promise.resolve(1)])).toThrow(/step 0 is not a query or sql statement/);
    expect(() => db.batch([db.from('posts').select(), db.from('posts').delete()])).toThrow(
      expect.objectContaining({ code: 'unscoped_change' }),
    );
    expect(mock.requests).toHaveLength(0);
  });

  it('refuses steps built on another act-as scope', () => {
    const asUser = db.as('user-token');
    expect(() => db.batch([asUser.from('posts').select()])).toThrow(/built on a client acting as someone else/);
    expect(() => asUser.batch([db.from('posts').select()])).toThrow(/built on a client acting as someone else/);
    expect(() => db.as('other-token').batch([asUser.sql`select 1`])).toThrow(/acting as someone else/);
    expect(mock.requests).toHaveLength(0);
  });

  it('runs plain fragments and same-scope steps in an as() batch, with the act-as header', async () => {
    answerBatch([sqlAnswer, { rows: [], rowCount: 0 }]);
    const asUser = db.as('user-token');
    await asUser.batch([sql`select 1`, asUser.from('posts').select()]);
    expect(mock.requests[0]?.headers.get('x-plinth-act-as')).toBe('user-token');
  });

  it('a result count that does not match the steps is an error', async () => {
    answerBatch([]);
    await expect(db.batch([db.from('posts').select()])).rejects.toMatchObject({ code: 'invalid_response' });
  });
});
