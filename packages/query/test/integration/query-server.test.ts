// The SDK's data calls against the real server, in-process, on the example app schema
// (test/fixtures/example-schema): PGlite by default, PostgreSQL when DATABASE_URL is set.
import { ConflictError, createServerClient, ValidationError } from '@plinth/client';
import { and, not, or, RowCountError, sql } from '@plinth/query';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateTypes } from '../../../server/src/typegen/generate-types.js';
import { useDataServer } from '../fixtures/data-server.js';

const { server, service, signedIn } = useDataServer();

describe('from() against the server (items: no RLS, as the service role)', () => {
  beforeAll(async () => {
    await service()
      .from('items')
      .insert(
        ['apple', 'banana', 'cherry', 'date', 'elder'].map((name, index) => ({
          name,
          qty: index * 2,
          price: (index + 1) * 2.5,
          category: index % 2 ? 'fruit' : null,
          tags: index < 2 ? ['red'] : ['green', 'sweet'],
        })),
      );
  });

  it('selects, filters with every kind of operator, orders and limits', async () => {
    const db = service();
    const rows = await db
      .from('items')
      .select('name, qty')
      .where({ qty: { gte: 2, lt: 8 }, tags: { contains: ['green'] } })
      .orderBy('qty', 'desc')
      .limit(10);
    expect(rows).toEqual([
      { name: 'date', qty: 6 },
      { name: 'cherry', qty: 4 },
    ]);
    const either = await db
      .from('items')
      .select('name')
      .where(or({ name: { in: ['apple', 'elder'] } }, and({ category: null }, not({ name: { like: 'c%' } }))))
      .orderBy('name');
    expect(either.map((row) => row.name)).toEqual(['apple', 'elder']);
    expect(
      await db
        .from('items')
        .select('name')
        .where({ name: { ilike: 'BAN%' } }),
    ).toEqual([{ name: 'banana' }]);
  });

  it('single(), maybeSingle() and count()', async () => {
    const db = service();
    await expect(db.from('items').select('name').where({ name: 'apple' }).single()).resolves.toEqual({ name: 'apple' });
    await expect(db.from('items').select().where({ name: 'nope' }).maybeSingle()).resolves.toBeNull();
    await expect(db.from('items').select().where({ category: 'fruit' }).single()).rejects.toBeInstanceOf(RowCountError);
    await expect(db.from('items').select().where({ category: 'fruit' }).count()).resolves.toBe(2);
  });

  it('pages with the keyset cursor until nextCursor is null', async () => {
    const db = service();
    const names: string[] = [];
    let after: string | null = null;
    do {
      const page: { rows: { name: unknown }[]; nextCursor: string | null } = await db
        .from('items')
        .select('name')
        .orderBy('name')
        .page({ limit: 2, after });
      names.push(...page.rows.map((row) => String(row.name)));
      after = page.nextCursor;
    } while (after);
    expect(names).toEqual(['apple', 'banana', 'cherry', 'date', 'elder']);
  });

  it('inserts, upserts, updates and deletes with returning', async () => {
    const db = service();
    const fig = await db.from('items').insert({ name: 'fig', qty: 1 }).returning('id, name, qty').single();
    expect(fig).toMatchObject({ name: 'fig', qty: 1 });
    await db.from('items').upsert({ name: 'fig', qty: 9 }, { onConflict: 'name' });
    await expect(db.from('items').select('qty').where({ name: 'fig' }).single()).resolves.toEqual({ qty: 9 });
    await expect(
      db.from('items').upsert({ name: 'fig', qty: 1 }, { onConflict: ['name'], ignoreDuplicates: true }),
    ).resolves.toEqual({ rowCount: 0 });
    await expect(db.from('items').update({ qty: 10 }).where({ name: 'fig' }).returning('qty')).resolves.toEqual([
      { qty: 10 },
    ]);
    await expect(
      db
        .from('items')
        .delete()
        .where({ id: fig.id as number }),
    ).resolves.toEqual({ rowCount: 1 });
  });

  it('refuses an unscoped change without a request, and maps server errors', async () => {
    const db = service();
    expect(() => db.from('items').delete().execute()).toThrow(expect.objectContaining({ code: 'unscoped_change' }));
    await expect(db.from('items').insert({ name: 'apple' })).rejects.toBeInstanceOf(ConflictError);
    await expect(db.from('items').select('nope')).rejects.toMatchObject({
      name: 'ValidationError',
      code: 'validation_failed',
    });
  });

  it('validates rows with a schema', async () => {
    const Item = z.object({ name: z.string(), qty: z.number().int() });
    await expect(service().from('items', Item).select('name, qty').where({ name: 'apple' }).single()).resolves.toEqual({
      name: 'apple',
      qty: 0,
    });
    const Wrong = z.object({ name: z.number() });
    await expect(service().from('items', Wrong).select('name').limit(1)).rejects.toMatchObject({ code: 'invalid_row' });
  });
});

describe('sql`` and batch() against the server', () => {
  it('keeps values as parameters, even hostile ones, and composes fragments', async () => {
    const db = service();
    const hostile = "x'); drop table items; --";
    const { rows } = await db.sql<{ name: string; echoed: string }>`
      select ${sql.ident('name')}, ${hostile}::text as echoed from ${sql.ident('public', 'items')}
      where ${sql`name in (${sql.join(['apple', 'banana'])})`} order by name`;
    expect(rows).toEqual([
      { name: 'apple', echoed: hostile },
      { name: 'banana', echoed: hostile },
    ]);
    await expect(db.from('items').select().count()).resolves.toBeGreaterThan(0);
  });

  it('runs steps in one transaction, results typed per step, all or nothing', async () => {
    const db = service();
    const [inserted, counted, statement] = await db.batch([
      db.from('items').insert({ name: 'grape', qty: 3 }).returning('name').single(),
      db.from('items').select().where({ name: 'grape' }).count(),
      db.sql`select count(*)::int as n from items where name = ${'grape'}`,
    ]);
    expect(inserted).toEqual({ name: 'grape' });
    expect(counted).toBe(1);
    expect(statement.rows).toEqual([{ n: 1 }]);
    await expect(
      db.batch([db.from('items').insert({ name: 'kiwi' }), db.from('items').insert({ name: 'kiwi' })]),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(db.from('items').select().where({ name: 'kiwi' }).count()).resolves.toBe(0);
  });
});

describe('as(): row-level security as a user', () => {
  it('each user sees and changes only what the policies allow', async () => {
    const db = service();
    const ada = await signedIn('ada.query@example.com');
    const bob = await signedIn('bob.query@example.com');
    const asAda = db.as(ada.session);
    const draft = await asAda.from('posts').insert({ title: 'Ada draft' }).returning('id, author_id').single();
    expect(draft.author_id).toBe(ada.id);
    await asAda.from('posts').insert({ title: 'Ada live', published: true });

    const titles = async (who: ReturnType<typeof db.as>) =>
      (await who.from('posts').select('title').orderBy('title')).map((row) => row.title);
    expect(await titles(asAda)).toEqual(['Ada draft', 'Ada live']);
    expect(await titles(db.as(bob.session.accessToken))).toEqual(['Ada live']);
    expect(await titles(db.as('anon'))).toEqual(['Ada live']);
    // Bob cannot touch Ada's post: the update matches no row he may see.
    await expect(
      db
        .as(bob.session)
        .from('posts')
        .update({ title: 'pwned' })
        .where({ id: draft.id as string }),
    ).resolves.toEqual({ rowCount: 0 });
    // The service role sees everything.
    expect((await db.from('posts').select('title').where({ author_id: ada.id })).length).toBe(2);
  });

  it('acts as the user of an incoming request’s access cookie (SSR), or anon without one', async () => {
    const carol = await signedIn('carol.query@example.com');
    const plinth = createServerClient({
      url: server().url,
      publishableKey: server().publishableKey as string,
      serviceKey: server().serviceKey as string,
      cookies: { getAll: () => [], setAll: () => {} },
    });
    await plinth.as(carol.session).from('notes').insert({ body: 'private' });
    const request = new Request('https://app.example.com/', {
      headers: { cookie: `theme=dark; __Host-plinth-access=${carol.session.accessToken}` },
    });
    await expect(plinth.as(request).from('notes').select('body')).resolves.toEqual([{ body: 'private' }]);
    await expect(plinth.as({ headers: new Headers() }).from('notes').select()).rejects.toMatchObject({
      name: 'PermissionError',
    });
  });

  it('a bad token is refused, never run as someone else', async () => {
    await expect(service().as('not-a-token').from('posts').select()).rejects.toMatchObject({
      name: 'AuthError',
      code: 'unauthenticated',
    });
    expect(() => service().as('')).toThrow(ValidationError);
  });
});

describe('plinth gen types against the server', () => {
  it('describes the example schema', async () => {
    const response = await fetch(`${server().url}/v1/schema`, {
      headers: { authorization: `Bearer ${server().serviceKey}` },
    });
    const source = generateTypes(await response.json());
    expect(source).toContain('      items: {\n        Row: {\n          id: number;\n          name: string;');
    expect(source).toContain('          mood: "happy" | "calm" | "sad" | null;');
    expect(source).toContain('          big: number | string | null;');
    expect(source).toContain('      cheap_items: {\n        Row: {');
  });
});
