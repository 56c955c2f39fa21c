import { beforeAll, describe, expect, it } from 'vitest';
import { useDataServer } from './data-fixture.js';
import { seedItems } from './seed-items.js';

const data = useDataServer();

beforeAll(async () => {
  const inserted = await data.query({ table: 'items', op: 'insert', values: seedItems });
  expect(inserted.status, JSON.stringify(inserted.body)).toBe(200);
  expect(inserted.body?.rowCount).toBe(5);
});

/** The names of the items matching `where`, in id order. */
async function names(where: unknown): Promise<string[]> {
  const { status, body } = await data.query({
    table: 'items',
    op: 'select',
    columns: ['name'],
    where,
    order: [{ column: 'id' }],
  });
  expect(status, JSON.stringify(body)).toBe(200);
  return body?.rows.map((row: { name: string }) => row.name);
}

describe('operators', () => {
  const cases: [string, unknown, string[]][] = [
    ['eq', { column: 'category', op: 'eq', value: 'veg' }, ['carrot', 'eggplant']],
    ['neq (NULL never matches)', { column: 'category', op: 'neq', value: 'veg' }, ['apple', 'banana']],
    ['gt', { column: 'qty', op: 'gt', value: 5 }, ['carrot', 'eggplant']],
    ['gte', { column: 'qty', op: 'gte', value: 5 }, ['apple', 'carrot', 'eggplant']],
    ['lt', { column: 'qty', op: 'lt', value: 3 }, ['banana']],
    ['lte', { column: 'qty', op: 'lte', value: 3 }, ['banana', 'donut']],
    ['gt on numeric, value as a string', { column: 'price', op: 'gt', value: '1.00' }, ['apple', 'donut']],
    ['in', { column: 'name', op: 'in', value: ['apple', 'donut', 'zucchini'] }, ['apple', 'donut']],
    ['in, empty list', { column: 'name', op: 'in', value: [] }, []],
    ['notIn', { column: 'category', op: 'notIn', value: ['veg'] }, ['apple', 'banana']],
    ['like (case-sensitive)', { column: 'name', op: 'like', value: 'b%' }, ['banana']],
    ['like, no match in another case', { column: 'name', op: 'like', value: 'B%' }, []],
    ['ilike', { column: 'name', op: 'ilike', value: 'B%' }, ['banana']],
    ['isNull true', { column: 'category', op: 'isNull', value: true }, ['donut']],
    ['isNull false', { column: 'category', op: 'isNull', value: false }, ['apple', 'banana', 'carrot', 'eggplant']],
    ['contains (array)', { column: 'tags', op: 'contains', value: ['sweet'] }, ['apple', 'banana']],
    [
      'containedBy (array)',
      { column: 'tags', op: 'containedBy', value: ['red', 'sweet', 'orange'] },
      ['apple', 'carrot', 'donut'],
    ],
    ['contains (jsonb)', { column: 'meta', op: 'contains', value: { color: 'red' } }, ['apple']],
    [
      'containedBy (jsonb)',
      { column: 'meta', op: 'containedBy', value: { color: 'purple', size: 9 } },
      ['donut', 'eggplant'],
    ],
    ['eq on an enum', { column: 'mood', op: 'eq', value: 'calm' }, ['banana', 'eggplant']],
    [
      'and',
      {
        and: [
          { column: 'category', op: 'eq', value: 'fruit' },
          { column: 'qty', op: 'gt', value: 0 },
        ],
      },
      ['apple'],
    ],
    [
      'or',
      {
        or: [
          { column: 'category', op: 'eq', value: 'fruit' },
          { column: 'qty', op: 'gt', value: 10 },
        ],
      },
      ['apple', 'banana', 'carrot'],
    ],
    ['not', { not: { column: 'category', op: 'eq', value: 'veg' } }, ['apple', 'banana']],
    [
      'nested and/or/not',
      {
        or: [
          { and: [{ column: 'category', op: 'eq', value: 'veg' }, { not: { column: 'qty', op: 'gt', value: 10 } }] },
          { column: 'category', op: 'isNull', value: true },
        ],
      },
      ['donut', 'eggplant'],
    ],
  ];
  it.each(cases)('%s', async (_label, where, expected) => {
    expect(await names(where)).toEqual(expected);
  });

  it('values come back typed: int8 beyond 2^53 as a string, numeric as a string, jsonb and arrays parsed', async () => {
    const { body } = await data.query({ table: 'items', op: 'select', where: { column: 'id', op: 'eq', value: 1 } });
    expect(body?.rows[0]).toMatchObject({
      id: 1,
      big: '9007199254740993',
      price: '1.50',
      tags: ['red', 'sweet'],
      meta: { color: 'red', size: 1 },
      mood: 'happy',
    });
    expect(Object.keys(body?.rows[0]).some((key) => key.startsWith('__plinth'))).toBe(false);
  });

  it('a view is queryable', async () => {
    const { body } = await data.query({ table: 'cheap_items', op: 'select', order: [{ column: 'name' }] });
    expect(body?.rows.map((row: { name: string }) => row.name)).toEqual(['apple', 'banana', 'carrot', 'donut']);
  });
});

describe('ordering', () => {
  const ordered = async (order: unknown) => {
    const { status, body } = await data.query({ table: 'items', op: 'select', columns: ['name'], order });
    expect(status, JSON.stringify(body)).toBe(200);
    return body?.rows.map((row: { name: string }) => row.name);
  };

  it('several columns, NULLs first', async () => {
    expect(
      await ordered([
        { column: 'category', nulls: 'first' },
        { column: 'qty', direction: 'desc' },
      ]),
    ).toEqual(['donut', 'apple', 'banana', 'carrot', 'eggplant']);
  });

  it('NULLs last', async () => {
    expect(
      await ordered([
        { column: 'category', nulls: 'last' },
        { column: 'qty', direction: 'desc' },
      ]),
    ).toEqual(['apple', 'banana', 'carrot', 'eggplant', 'donut']);
  });

  it('descending puts NULLs first by default (as PostgreSQL does); ties broken by the primary key', async () => {
    expect(await ordered([{ column: 'category', direction: 'desc' }])).toEqual([
      'donut',
      'carrot',
      'eggplant',
      'apple',
      'banana',
    ]);
  });

  it('an unknown order column is a 400 naming order[i].column', async () => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'select',
      order: [{ column: 'id' }, { column: 'nope' }],
    });
    expect(status).toBe(400);
    expect(body?.error.details).toMatchObject({ field: 'order[1].column', name: 'nope' });
  });
});

describe('paging', () => {
  it('limit and offset', async () => {
    const { body } = await data.query({
      table: 'items',
      op: 'select',
      columns: ['name'],
      order: [{ column: 'id' }],
      limit: 2,
      offset: 2,
    });
    expect(body?.rows).toEqual([{ name: 'carrot' }, { name: 'donut' }]);
    expect(body?.rowCount).toBe(2);
    expect(typeof body?.nextCursor).toBe('string');
  });

  it.each([
    [
      'a nullable column, NULLs first, then a descending one',
      [
        { column: 'category', nulls: 'first' },
        { column: 'qty', direction: 'desc' },
      ],
    ],
    ['a nullable column, NULLs last', [{ column: 'price', nulls: 'last' }]],
    ['descending, NULLs first', [{ column: 'price', direction: 'desc' }]],
    ['a timestamp shared by every row (the primary key breaks the ties)', [{ column: 'created_at' }]],
    ['no order: the primary key', []],
  ])('keyset: every row exactly once in order, with %s', async (_label, order) => {
    const all = await data.query({ table: 'items', op: 'select', columns: ['name'], order });
    const expected = all.body?.rows.map((row: { name: string }) => row.name);
    expect(expected).toHaveLength(5);
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const { status, body } = await data.query({
        table: 'items',
        op: 'select',
        columns: ['name'],
        order,
        limit: 2,
        ...(after ? { after } : {}),
      });
      expect(status, JSON.stringify(body)).toBe(200);
      seen.push(...(body?.rows ?? []).map((row: { name: string }) => row.name));
      if (body?.nextCursor === null) break;
      after = body?.nextCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('the last page says nextCursor: null', async () => {
    const { body } = await data.query({ table: 'items', op: 'select', limit: 5 });
    expect(body?.rowCount).toBe(5);
    expect(body?.nextCursor).toBeNull();
  });

  it('a tampered cursor is a 400 naming after', async () => {
    const { body } = await data.query({ table: 'items', op: 'select', order: [{ column: 'qty' }], limit: 2 });
    const cursor: string = body?.nextCursor;
    const [payload, mac] = cursor.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString());
    decoded.k[0] = '999';
    const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${mac}`;
    const flipped = `${cursor.slice(0, -2)}${cursor.at(-2) === 'A' ? 'B' : 'A'}${cursor.at(-1)}`;
    for (const after of [forged, flipped, 'garbage', `${payload}.`, '']) {
      const answer = await data.query({ table: 'items', op: 'select', order: [{ column: 'qty' }], limit: 2, after });
      expect(answer.status, after).toBe(400);
      expect(answer.body?.error.details.field).toBe('after');
    }
  });

  it('a cursor from another ordering or table is a 400', async () => {
    const { body } = await data.query({ table: 'items', op: 'select', order: [{ column: 'qty' }], limit: 2 });
    const after = body?.nextCursor;
    for (const query of [
      { table: 'items', order: [{ column: 'qty', direction: 'desc' }] },
      { table: 'items', order: [{ column: 'qty', nulls: 'first' }] },
      { table: 'items', order: [{ column: 'name' }] },
      { table: 'items' },
      { table: 'cheap_items', order: [{ column: 'id' }] },
    ]) {
      const answer = await data.query({ ...query, op: 'select', limit: 2, after });
      expect(answer.status, JSON.stringify(query)).toBe(400);
      expect(answer.body?.error.message).toMatch(/another table or ordering/);
    }
  });
});

describe('counts', () => {
  it('exact: the rows matching where, ignoring limit and offset', async () => {
    const { body } = await data.query({
      table: 'items',
      op: 'select',
      where: { column: 'category', op: 'isNull', value: false },
      limit: 1,
      offset: 1,
      count: 'exact',
    });
    expect(body?.rows).toHaveLength(1);
    expect(body?.count).toBe(4);
  });

  it('estimated: the planner’s estimate, a whole number', async () => {
    const { status, body } = await data.query({ table: 'items', op: 'select', count: 'estimated', limit: 1 });
    expect(status).toBe(200);
    expect(Number.isInteger(body?.count)).toBe(true);
    expect(body?.count).toBeGreaterThanOrEqual(0);
  });

  it('no count unless asked', async () => {
    const { body } = await data.query({ table: 'items', op: 'select', limit: 1 });
    expect(body).not.toHaveProperty('count');
  });
});

describe('identifiers are checked against the schema', () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['table', { table: 'nope', op: 'select' }, 'table', 'nope'],
    [
      'table with SQL in it',
      { table: 'items"; DROP TABLE items; --', op: 'select' },
      'table',
      'items"; DROP TABLE items; --',
    ],
    ['schema', { schema: 'plinth', table: 'users', op: 'select' }, 'schema', 'plinth'],
    ['schema auth', { schema: 'auth', table: 'uid', op: 'select' }, 'schema', 'auth'],
    ['schema pg_catalog', { schema: 'pg_catalog', table: 'pg_authid', op: 'select' }, 'schema', 'pg_catalog'],
    ['a table of Plinth’s, unqualified', { table: 'users', op: 'select' }, 'table', 'users'],
    ['columns[i]', { table: 'items', op: 'select', columns: ['id', 'nope'] }, 'columns[1]', 'nope'],
    [
      'where.and[i].column',
      {
        table: 'items',
        op: 'select',
        where: {
          and: [
            { column: 'id', op: 'eq', value: 1 },
            { column: 'nope', op: 'eq', value: 1 },
          ],
        },
      },
      'where.and[1].column',
      'nope',
    ],
    [
      'where.or[i].not.column',
      { table: 'items', op: 'select', where: { or: [{ not: { column: 'x"y', op: 'eq', value: 1 } }] } },
      'where.or[0].not.column',
      'x"y',
    ],
    ['values.<column>', { table: 'items', op: 'insert', values: { name: 'z', nope: 1 } }, 'values.nope', 'nope'],
    [
      'values[i].<column>',
      { table: 'items', op: 'insert', values: [{ name: 'z' }, { nope: 1 }] },
      'values[1].nope',
      'nope',
    ],
    [
      'returning[i]',
      { table: 'items', op: 'insert', values: { name: 'z' }, returning: ['nope'] },
      'returning[0]',
      'nope',
    ],
    [
      'onConflict[i]',
      { table: 'items', op: 'upsert', values: { name: 'z' }, onConflict: ['nope'] },
      'onConflict[0]',
      'nope',
    ],
  ];
  it.each(cases)('an unknown %s is a 400 naming the field and the name', async (_label, query, field, name) => {
    const { status, body } = await data.query(query);
    expect(status).toBe(400);
    expect(body?.error.code).toBe('validation_failed');
    expect(body?.error.details).toMatchObject({ field, name });
  });

  it('GET /v1/schema lists the app’s tables and views, and nothing of Plinth’s', async () => {
    const { status, body } = await data.schema();
    expect(status).toBe(200);
    const names = body?.tables.map((t: { schema: string; name: string }) => `${t.schema}.${t.name}`);
    expect(names).toEqual([
      'public.cheap_items',
      'public.comments',
      'public.item_parts',
      'public.items',
      'public.notes',
      'public.posts',
    ]);
    const items = body?.tables.find((t: { name: string }) => t.name === 'items');
    expect(items.kind).toBe('table');
    expect(items.primaryKey).toEqual(['id']);
    expect(items.columns.find((c: { name: string }) => c.name === 'tags')).toMatchObject({
      type: 'text',
      isArray: true,
      nullable: false,
      hasDefault: true,
    });
    expect(items.columns.find((c: { name: string }) => c.name === 'mood')).toMatchObject({
      type: 'mood',
      nullable: true,
      enumValues: ['happy', 'calm', 'sad'],
    });
    expect(items.columns.find((c: { name: string }) => c.name === 'id')).toMatchObject({
      type: 'int4',
      hasDefault: true,
    });
    const parts = body?.tables.find((t: { name: string }) => t.name === 'item_parts');
    expect(parts.foreignKeys).toEqual([
      {
        name: 'item_parts_item_id_fkey',
        columns: ['item_id'],
        references: { schema: 'public', table: 'items', columns: ['id'] },
      },
    ]);
    expect(body?.tables.find((t: { name: string }) => t.name === 'cheap_items').kind).toBe('view');
    expect(JSON.stringify(body)).not.toMatch(/"schema":"(plinth|auth)"/);
  });
});
