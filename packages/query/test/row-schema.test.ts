import { RowValidationError } from '@plinth/query';
import { describe, expect, it } from 'vitest';
import * as zc from 'zod';
import * as z from 'zod/mini';
import { useMockServer } from '../../../test/fixtures/msw-server.js';
import { answerQueries, serviceClient } from './fixtures/query-client.js';

const mock = useMockServer();
const db = serviceClient();

const Post = z.object({ id: z.string(), title: z.string(), views: z.number() });

describe('from(table, schema)', () => {
  it('checks every row and gives the schema’s output (unknown keys stripped)', async () => {
    answerQueries(mock, { rows: [{ id: 'p1', title: 'Hi', views: 3, extra: true }], rowCount: 1 });
    await expect(db.from('posts', Post).select()).resolves.toEqual([{ id: 'p1', title: 'Hi', views: 3 }]);
  });

  it('applies transforms (classic zod)', async () => {
    const Dated = zc.object({ id: zc.string(), created_at: zc.string().transform((value) => new Date(value)) });
    answerQueries(mock, { rows: [{ id: 'p1', created_at: '2026-11-23T00:00:00Z' }], rowCount: 1 });
    const [row] = await db.from('posts', Dated).select('id, created_at');
    expect(row?.created_at).toBeInstanceOf(Date);
  });

  it('throws RowValidationError naming the row and the field', async () => {
    answerQueries(mock, {
      rows: [
        { id: 'p1', title: 'Hi', views: 3 },
        { id: 'p2', title: 'Bad', views: 'many' },
      ],
      rowCount: 2,
    });
    const error = await db
      .from('posts', Post)
      .select()
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(RowValidationError);
    expect(error).toMatchObject({ code: 'invalid_row', details: { row: 1, field: 'views' } });
    expect((error as Error).message).toContain('from("posts").select(): row 1 does not match the schema: views:');
  });

  it('checks single(), maybeSingle(), page() and returning() rows too', async () => {
    answerQueries(mock, { rows: [{ id: 1 }], rowCount: 1, nextCursor: null });
    await expect(db.from('posts', Post).select().single()).rejects.toBeInstanceOf(RowValidationError);
    await expect(db.from('posts', Post).select().maybeSingle()).rejects.toBeInstanceOf(RowValidationError);
    await expect(db.from('posts', Post).select().page({ limit: 1 })).rejects.toBeInstanceOf(RowValidationError);
    await expect(db.from('posts', Post).insert({ author_id: 'u1', title: 't' }).returning()).rejects.toBeInstanceOf(
      RowValidationError,
    );
  });

  it('does not check a change without returning()', async () => {
    answerQueries(mock, { rows: [], rowCount: 2 });
    await expect(db.from('posts', Post).delete().where({ id: 'p1' })).resolves.toEqual({ rowCount: 2 });
  });
});
