import { createTransport } from '@plinth/core';
import { and, not, or, type Page, type QueryClient, type SqlResult } from '@plinth/query';
import { describe, expectTypeOf, it } from 'vitest';
import * as z from 'zod/mini';
import type { Database } from '../../../test/fixtures/example-database.js';

// Compile-time checks: `pnpm typecheck` fails if a line below stops type-checking, or if an
// `@ts-expect-error` line starts to (the error it expects vanished). The function is never run.
type Post = Database['public']['Tables']['posts']['Row'];

function typed(db: QueryClient<Database>) {
  const posts = db.from('posts');
  expectTypeOf(posts.select()).resolves.toEqualTypeOf<Post[]>();
  expectTypeOf(posts.select('*')).resolves.toEqualTypeOf<Post[]>();
  expectTypeOf(posts.select('id, title')).resolves.toEqualTypeOf<{ id: string; title: string }[]>();
  expectTypeOf(posts.select(' id ,\n title ')).resolves.toEqualTypeOf<{ id: string; title: string }[]>();
  expectTypeOf(posts.select(['id', 'views'])).resolves.toEqualTypeOf<{ id: string; views: number }[]>();
  expectTypeOf(posts.select('id').single()).resolves.toEqualTypeOf<{ id: string }>();
  expectTypeOf(posts.select('id').maybeSingle()).resolves.toEqualTypeOf<{ id: string } | null>();
  expectTypeOf(posts.select().count()).resolves.toEqualTypeOf<number>();
  expectTypeOf(posts.select('id').page({ limit: 10 })).resolves.toEqualTypeOf<Page<{ id: string }>>();
  expectTypeOf(db.from('live_posts').select()).resolves.toEqualTypeOf<{ id: string; title: string }[]>();
  expectTypeOf(db.from('app.settings').select('value')).resolves.toEqualTypeOf<
    { value: Database['app']['Tables']['settings']['Row']['value'] }[]
  >();
  expectTypeOf(db.from('public.posts').select('id')).resolves.toEqualTypeOf<{ id: string }[]>();

  // @ts-expect-error no such table
  db.from('nope');
  // @ts-expect-error settings lives in the app schema, not public
  db.from('settings');
  // @ts-expect-error unknown column in a column string
  posts.select('id, nope');
  // @ts-expect-error unknown column in a column array
  posts.select(['id', 'nope']);
  // @ts-expect-error unknown column in where
  posts.select().where({ nope: 1 });
  // @ts-expect-error wrong value type in where
  posts.select().where({ views: 'many' });
  // @ts-expect-error an enum column takes only its values
  posts.select().where({ status: 'archived' });
  // @ts-expect-error `in` takes an array of the column's values
  posts.select().where({ status: { in: ['draft', 'archived'] } });
  // @ts-expect-error like is for text columns
  posts.select().where({ views: { like: '1%' } });
  // @ts-expect-error an operator that does not exist
  posts.select().where({ views: { between: [1, 2] } });
  // @ts-expect-error unknown column in orderBy
  posts.select().orderBy('nope');
  // @ts-expect-error bad direction
  posts.select().orderBy('id', 'up');
  // @ts-expect-error unknown column in returning
  posts.insert({ author_id: 'a', title: 't' }).returning('id, nope');
  // @ts-expect-error a required insert column is missing
  posts.insert({ author_id: 'a' });
  // @ts-expect-error unknown column in update
  posts.update({ nope: 1 });
  // @ts-expect-error unknown column in onConflict
  posts.upsert({ author_id: 'a', title: 't' }, { onConflict: 'nope' });
  // @ts-expect-error a view cannot be inserted into
  db.from('live_posts').insert({ id: 'x', title: 't' });
  // @ts-expect-error insert has no where
  posts.insert({ author_id: 'a', title: 't' }).where({ id: 'x' });
  // @ts-expect-error single() on a change needs returning() first
  posts.update({ title: 't' }).where({ id: 'x' }).single();

  // Filters and combinators are checked against the table's columns.
  posts
    .select('id')
    .where({ author_id: 'me', status: { in: ['draft', 'live'] }, published_at: null })
    .where(or({ views: { gte: 10 } }, and({ status: 'draft' }, not({ tags: { contains: ['x'] } }))))
    .orderBy('created_at', 'desc', { nulls: 'last' });
  // @ts-expect-error a combinator's filters are checked against the table too
  posts.select().where(or({ views: { gte: 10 } }, { nope: 1 }));

  expectTypeOf(posts.insert({ author_id: 'a', title: 't' })).resolves.toEqualTypeOf<{ rowCount: number }>();
  expectTypeOf(
    posts
      .insert([{ author_id: 'a', title: 't' }])
      .returning('id')
      .single(),
  ).resolves.toEqualTypeOf<{
    id: string;
  }>();
  expectTypeOf(posts.update({ title: 'x' }).where({ id: 'x' }).returning()).resolves.toEqualTypeOf<Post[]>();
  expectTypeOf(posts.delete().all()).resolves.toEqualTypeOf<{ rowCount: number }>();
  expectTypeOf(
    posts.upsert({ author_id: 'a', title: 't' }, { onConflict: ['id'], ignoreDuplicates: true }),
  ).resolves.toEqualTypeOf<{
    rowCount: number;
  }>();

  // A schema types (and checks) rows at run time.
  const PostSummary = z.object({ id: z.string(), title: z.string() });
  expectTypeOf(db.from('posts', PostSummary).select()).resolves.toEqualTypeOf<{ id: string; title: string }[]>();
  // @ts-expect-error columns are the schema's
  db.from('posts', PostSummary).select('views');

  // sql: rows typed by a type argument; batch: results typed per step.
  expectTypeOf(db.sql<{ n: number }>`select 1 as n`).resolves.toEqualTypeOf<SqlResult<{ n: number }>>();
  expectTypeOf(
    db.batch([posts.select('id').single(), posts.delete().where({ id: 'x' }), db.sql`select 1`]),
  ).resolves.toEqualTypeOf<[{ id: string }, { rowCount: number }, SqlResult<Record<string, unknown>>]>();
  expectTypeOf(db.as('anon').from('posts').select('title')).resolves.toEqualTypeOf<{ title: string }[]>();
}

function untyped(db: QueryClient) {
  expectTypeOf(db.from('anything').select()).resolves.toEqualTypeOf<Record<string, unknown>[]>();
  expectTypeOf(db.from('anything').select('a, b')).resolves.toEqualTypeOf<{ a: unknown; b: unknown }[]>();
  db.from('anything')
    .select()
    .where({ any_column: 1, other: { in: [1, 2] } });
}

describe('query types', () => {
  it('are checked by pnpm typecheck', () => {
    expectTypeOf(typed).toBeFunction();
    expectTypeOf(untyped).toBeFunction();
    expectTypeOf(createTransport).toBeFunction();
  });
});
