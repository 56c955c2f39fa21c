import { beforeEach, describe, expect, it } from 'vitest';
import { useDataServer } from './data-fixture.js';
import { seedItems } from './seed-items.js';

const data = useDataServer();

beforeEach(async () => {
  const reset = await data.batch([
    { kind: 'query', query: { table: 'item_parts', op: 'delete', all: true } },
    { kind: 'query', query: { table: 'items', op: 'delete', all: true } },
    { kind: 'query', query: { table: 'items', op: 'insert', values: seedItems } },
  ]);
  expect(reset.status, JSON.stringify(reset.body)).toBe(200);
});

const item = async (name: string) =>
  (await data.query({ table: 'items', op: 'select', where: { column: 'name', op: 'eq', value: name } })).body?.rows[0];

describe('insert', () => {
  it('one row, returning chosen columns, defaults filled in', async () => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'insert',
      values: { id: 10, name: 'fig', tags: ['a "quoted", {braced} \\ tag', null] },
      returning: ['id', 'name', 'qty', 'tags'],
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({
      rows: [{ id: 10, name: 'fig', qty: 0, tags: ['a "quoted", {braced} \\ tag', null] }],
      rowCount: 1,
    });
  });

  it('many rows; a row without a column gets its default; no returning answers no rows', async () => {
    const { body } = await data.query({
      table: 'items',
      op: 'insert',
      values: [
        { id: 11, name: 'grape', qty: 4 },
        { id: 12, name: 'honeydew' },
        { id: 13, name: 'kiwi', meta: { nested: { deep: [1, 2] } } },
      ],
    });
    expect(body).toEqual({ rows: [], rowCount: 3 });
    expect(await item('honeydew')).toMatchObject({ qty: 0, tags: [], meta: {} });
    expect(await item('kiwi')).toMatchObject({ meta: { nested: { deep: [1, 2] } } });
  });

  it('returning * gives every column', async () => {
    const { body } = await data.query({
      table: 'items',
      op: 'insert',
      values: { id: 14, name: 'lime' },
      returning: ['*'],
    });
    expect(Object.keys(body?.rows[0]).sort()).toEqual(
      ['big', 'category', 'created_at', 'id', 'meta', 'mood', 'name', 'price', 'qty', 'tags'].sort(),
    );
  });

  it('ignoreDuplicates skips rows that conflict', async () => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'insert',
      values: [
        { id: 20, name: 'apple', qty: 99 },
        { id: 21, name: 'mango' },
      ],
      ignoreDuplicates: true,
      returning: ['name'],
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ rows: [{ name: 'mango' }], rowCount: 1 });
    expect((await item('apple')).qty).toBe(5);
  });
});

describe('upsert', () => {
  it('onConflict: updates the existing row, inserts the new', async () => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'upsert',
      values: [
        { name: 'apple', qty: 50 },
        { id: 30, name: 'nectarine', qty: 1 },
      ],
      onConflict: ['name'],
      returning: ['name', 'qty'],
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body?.rows).toEqual([
      { name: 'apple', qty: 50 },
      { name: 'nectarine', qty: 1 },
    ]);
    expect(await item('apple')).toMatchObject({ id: 1, qty: 50, category: 'fruit' });
  });

  it('onConflict with ignoreDuplicates leaves the existing row alone', async () => {
    const { body } = await data.query({
      table: 'items',
      op: 'upsert',
      values: { name: 'apple', qty: 51 },
      onConflict: ['name'],
      ignoreDuplicates: true,
    });
    expect(body?.rowCount).toBe(0);
    expect((await item('apple')).qty).toBe(5);
  });

  it('without onConflict, matches on the primary key', async () => {
    const { body } = await data.query({
      table: 'items',
      op: 'upsert',
      values: { id: 2, name: 'banana', qty: 8 },
      returning: ['id', 'qty'],
    });
    expect(body?.rows).toEqual([{ id: 2, qty: 8 }]);
  });

  it('onConflict on columns with no unique constraint is a 400 naming onConflict', async () => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'upsert',
      values: { name: 'x', qty: 1 },
      onConflict: ['qty'],
    });
    expect(status).toBe(400);
    expect(body?.error.details.field).toBe('onConflict');
  });

  it('insert with onConflict but without ignoreDuplicates is refused: that is an upsert', async () => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'insert',
      values: { name: 'x' },
      onConflict: ['name'],
    });
    expect(status).toBe(400);
    expect(body?.error.details.field).toBe('onConflict');
  });
});

describe('update', () => {
  it('sets columns on the rows matching where, returning them', async () => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'update',
      values: { qty: 100, tags: ['x'], meta: { a: true }, mood: null },
      where: { column: 'category', op: 'eq', value: 'veg' },
      returning: ['name', 'qty', 'tags', 'meta', 'mood'],
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body?.rowCount).toBe(2);
    expect(body?.rows).toEqual(
      expect.arrayContaining([
        { name: 'carrot', qty: 100, tags: ['x'], meta: { a: true }, mood: null },
        { name: 'eggplant', qty: 100, tags: ['x'], meta: { a: true }, mood: null },
      ]),
    );
  });

  it('without where is refused, naming where', async () => {
    const { status, body } = await data.query({ table: 'items', op: 'update', values: { qty: 1 } });
    expect(status).toBe(400);
    expect(body?.error.details.field).toBe('where');
    expect(body?.error.message).toMatch(/all: true/);
    expect((await item('apple')).qty).toBe(5);
  });

  it('with all: true changes every row', async () => {
    const { body } = await data.query({ table: 'items', op: 'update', values: { qty: 1 }, all: true });
    expect(body?.rowCount).toBe(5);
  });
});

describe('delete', () => {
  it('removes the rows matching where, returning them', async () => {
    const { body } = await data.query({
      table: 'items',
      op: 'delete',
      where: { column: 'name', op: 'in', value: ['apple', 'banana'] },
      returning: ['name'],
    });
    expect(body?.rowCount).toBe(2);
    expect(body?.rows.map((row: { name: string }) => row.name).sort()).toEqual(['apple', 'banana']);
    expect(await item('apple')).toBeUndefined();
  });

  it('without where is refused, naming where; with all: true removes every row', async () => {
    const refused = await data.query({ table: 'items', op: 'delete' });
    expect(refused.status).toBe(400);
    expect(refused.body?.error.details.field).toBe('where');
    const all = await data.query({ table: 'items', op: 'delete', all: true });
    expect(all.body?.rowCount).toBe(5);
  });
});

describe('options that do not belong to the operation are refused', () => {
  it.each([
    [{ table: 'items', op: 'select', values: { a: 1 } }, 'values'],
    [{ table: 'items', op: 'select', returning: ['id'] }, 'returning'],
    [{ table: 'items', op: 'delete', where: { column: 'id', op: 'eq', value: 1 }, limit: 1 }, 'limit'],
    [{ table: 'items', op: 'insert', values: { name: 'x' }, where: { column: 'id', op: 'eq', value: 1 } }, 'where'],
    [{ table: 'items', op: 'update', values: [{ qty: 1 }], all: true }, 'values'],
    [{ table: 'items', op: 'insert' }, 'values'],
  ])('%j → 400 naming %s', async (query, field) => {
    const { status, body } = await data.query(query);
    expect(status).toBe(400);
    expect(body?.error.details.field).toBe(field);
  });
});
