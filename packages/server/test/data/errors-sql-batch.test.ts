import { beforeAll, describe, expect, it } from 'vitest';
import { useDataServer } from './data-fixture.js';
import { seedItems } from './seed-items.js';

// A short statement timeout and a small row cap, so both can be seen.
const data = useDataServer({ statementTimeoutMs: 300, maxRows: 3 });

beforeAll(async () => {
  const inserted = await data.query({ table: 'items', op: 'insert', values: seedItems });
  expect(inserted.status, JSON.stringify(inserted.body)).toBe(200);
});

const itemCount = async () =>
  (await data.query({ table: 'items', op: 'select', count: 'exact', limit: 0 })).body?.count;

describe('PostgreSQL errors map to stable codes', () => {
  it('unique violation → 409 conflict naming the constraint and columns', async () => {
    const { status, body } = await data.query({ table: 'items', op: 'insert', values: { id: 100, name: 'apple' } });
    expect(status).toBe(409);
    expect(body?.error.code).toBe('conflict');
    expect(body?.error.details).toMatchObject({
      constraint: 'items_name_key',
      columns: ['name'],
      field: 'values.name',
    });
  });

  it('foreign-key violation → 400 naming the column', async () => {
    const { status, body } = await data.query({
      table: 'item_parts',
      op: 'insert',
      values: { item_id: 999, label: 'x' },
    });
    expect(status).toBe(400);
    expect(body?.error.code).toBe('validation_failed');
    expect(body?.error.details).toMatchObject({
      field: 'values.item_id',
      columns: ['item_id'],
      constraint: 'item_parts_item_id_fkey',
    });
  });

  it('check violation → 400 naming the constraint and its column', async () => {
    const { status, body } = await data.query({ table: 'items', op: 'insert', values: { name: 'neg', qty: -1 } });
    expect(status).toBe(400);
    expect(body?.error.details).toMatchObject({
      field: 'values.qty',
      constraint: 'items_qty_not_negative',
      columns: ['qty'],
    });
  });

  it('not-null violation → 400 naming the column', async () => {
    const { status, body } = await data.query({ table: 'items', op: 'insert', values: { qty: 1 } });
    expect(status).toBe(400);
    expect(body?.error.details).toMatchObject({ field: 'values.name', column: 'name' });
  });

  it.each([
    ['a string for an integer', { qty: 'many' }, 'values.qty'],
    ['a fraction for an integer', { qty: 1.5 }, 'values.qty'],
    ['an integer out of range', { qty: 2 ** 40 }, 'values.qty'],
    ['an object for text', { category: { a: 1 } }, 'values.category'],
    ['a value outside the enum', { mood: 'angry' }, 'values.mood'],
    ['a scalar for an array', { tags: 'red' }, 'values.tags'],
    ['a bad number', { price: 'cheap' }, 'values.price'],
    ['a bad timestamp (PostgreSQL refuses it)', { created_at: 'not a time' }, 'values.created_at'],
    ['a bad nested array element', { tags: [['a'], 'b'] }, 'values.tags'],
  ])('%s → 400 naming the field, never a 500', async (_label, values, field) => {
    const { status, body } = await data.query({
      table: 'items',
      op: 'insert',
      values: { name: `bad-${field}`, ...values },
    });
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body?.error.details.field).toBe(field);
  });

  it.each([
    [
      'a bad uuid in where',
      { table: 'posts', op: 'select', where: { column: 'id', op: 'eq', value: 'nope' } },
      'where.value',
    ],
    [
      'in without an array',
      { table: 'items', op: 'select', where: { column: 'id', op: 'in', value: 1 } },
      'where.value',
    ],
    [
      'like on a number column',
      { table: 'items', op: 'select', where: { column: 'qty', op: 'like', value: '1%' } },
      'where.value',
    ],
    [
      'contains on text',
      { table: 'items', op: 'select', where: { column: 'name', op: 'contains', value: 'a' } },
      'where.value',
    ],
    ['eq null', { table: 'items', op: 'select', where: { column: 'name', op: 'eq', value: null } }, 'where.value'],
    [
      'isNull with a string',
      { table: 'items', op: 'select', where: { column: 'name', op: 'isNull', value: 'yes' } },
      'where.value',
    ],
  ])('%s → 400 naming the field', async (_label, query, field) => {
    const { status, body } = await data.query(query);
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body?.error.details.field).toBe(field);
  });

  it('limit is capped by maxRows, with a cursor to the rest', async () => {
    const { body } = await data.query({ table: 'items', op: 'select', limit: 100 });
    expect(body?.rows).toHaveLength(3);
    expect(typeof body?.nextCursor).toBe('string');
  });
});

describe('POST /v1/sql', () => {
  it('answers rows, column names with Postgres type names, row count and command', async () => {
    const { status, body } = await data.sql(
      'SELECT id, name, tags, meta, price, big, $1::int + 1 AS next FROM items WHERE id = ANY($2) ORDER BY id',
      [41, [1, 2]],
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body?.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 'name', type: 'text' },
      { name: 'tags', type: '_text' },
      { name: 'meta', type: 'jsonb' },
      { name: 'price', type: 'numeric' },
      { name: 'big', type: 'int8' },
      { name: 'next', type: 'int4' },
    ]);
    expect(body?.rows[0]).toEqual({
      id: 1,
      name: 'apple',
      tags: ['red', 'sweet'],
      meta: { color: 'red', size: 1 },
      price: '1.50',
      big: '9007199254740993',
      next: 42,
    });
    expect(body?.rowCount).toBe(2);
    expect(body?.command).toBe('SELECT');
  });

  it('a change answers its command and row count; jsonb parameters are JSON values', async () => {
    const { body } = await data.sql('UPDATE items SET meta = $1 WHERE category = $2', [{ checked: true }, 'veg']);
    expect(body).toMatchObject({ rows: [], columns: [], rowCount: 2, command: 'UPDATE' });
    const after = await data.sql("SELECT meta FROM items WHERE name = 'carrot'");
    expect(after.body?.rows[0].meta).toEqual({ checked: true });
  });

  it('more than one statement is a 400, with or without parameters', async () => {
    for (const [text, params] of [
      ['SELECT 1; SELECT 2', []],
      ['SELECT $1::int; DELETE FROM items', [1]],
      ['DELETE FROM items WHERE false; DELETE FROM items', []],
    ] as const) {
      const { status, body } = await data.sql(text, [...params]);
      expect(status, text).toBe(400);
      expect(body?.error.details.field).toBe('text');
    }
    expect(await itemCount()).toBe(5);
  });

  it.each([
    'COMMIT',
    'begin',
    '  /* c */ -- d\n SET ROLE postgres',
    'RESET ROLE',
    'set local statement_timeout = 0',
    'DISCARD ALL',
  ])('session and transaction control (%j) is refused with 400', async (text) => {
    const { status, body } = await data.sql(text);
    expect(status).toBe(400);
    expect(body?.error.details.field).toBe('text');
  });

  it('a syntax error → 400 with the position', async () => {
    const { status, body } = await data.sql('SELECT id FROM items WHER id = 1');
    expect(status).toBe(400);
    expect(body?.error.code).toBe('validation_failed');
    expect(body?.error.details.position).toBe(27);
  });

  it.each([
    ['an unknown table', 'SELECT * FROM nope'],
    ['an unknown column', 'SELECT nope FROM items'],
    ['an unknown function', 'SELECT nope()'],
    ['a parameter missing', 'SELECT $1::int + $2::int'],
    ['a value PostgreSQL cannot read', "SELECT 'x'::int"],
  ])('%s → 400', async (_label, text) => {
    const { status, body } = await data.sql(text, text.includes('$2') ? [1] : []);
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body?.error.code).toBe('validation_failed');
  });

  it('a statement over the timeout → 504 timeout, and it had no effect', async () => {
    const { status, body } = await data.sql(
      "WITH gone AS (DELETE FROM items WHERE name = 'apple' RETURNING 1) SELECT pg_sleep(1), (SELECT count(*) FROM gone)",
    );
    expect(status, JSON.stringify(body)).toBe(504);
    expect(body?.error.code).toBe('timeout');
    expect(body?.error.message).toMatch(/300 ms/);
    expect(await itemCount()).toBe(5);
  });

  it('Plinth’s own tables are not reachable from the service role', async () => {
    for (const text of ['SELECT * FROM plinth.users', 'SELECT * FROM plinth.keys', 'SELECT * FROM plinth.sessions']) {
      const { status, body } = await data.sql(text);
      expect(status, text).toBe(403);
      expect(body?.error.code).toBe('permission_denied');
    }
  });

  it.each([
    ['set_config to the superuser', "SELECT set_config('role', 'postgres', true)"],
    ['set_config to the server role, for the session', "SELECT set_config('role', 'plinth_server', false)"],
    [
      'set_config beside a query run from a string',
      "SELECT set_config('role', 'postgres', true), query_to_xml('SELECT * FROM plinth.keys', true, true, '')",
    ],
    ['set_config of the claims', 'SELECT set_config(\'request.jwt.claims\', \'{"role":"service"}\', true)'],
    ['pg_settings, which calls set_config', "UPDATE pg_settings SET setting = 'postgres' WHERE name = 'role'"],
  ])('app SQL may not switch roles or change settings: %s → 403', async (_label, text) => {
    const { status, body } = await data.sql(text);
    expect(status, JSON.stringify(body)).toBe(403);
    expect(body?.error.code).toBe('permission_denied');
    const after = await data.sql('SELECT current_user AS role');
    expect(after.body?.rows[0].role).toBe('plinth_service');
  });

  it.each([
    "DO $$ BEGIN EXECUTE 'SET ROLE postgres'; END $$",
    'do language plpgsql $$ begin perform 1; end $$',
    "CREATE FUNCTION pg_temp.up() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SET ROLE postgres'; END $$",
    '/* x */ create or replace procedure pg_temp.up() language sql as $$ select 1 $$',
  ])('code brought along to run (%j) is refused with 400', async (text) => {
    const { status, body } = await data.sql(text);
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body?.error.details.field).toBe('text');
  });

  it('a batch cannot switch roles for its later steps', async () => {
    const { status, body } = await data.batch([
      { kind: 'sql', sql: { text: "SELECT set_config('role', 'postgres', true)", params: [] } },
      { kind: 'sql', sql: { text: 'SELECT count(*)::int AS n FROM plinth.users', params: [] } },
    ]);
    expect(status, JSON.stringify(body)).toBe(403);
    expect(body?.error.code).toBe('permission_denied');
  });

  it('after app SQL the server runs as plinth_server again', async () => {
    await data.sql('SELECT 1');
    const health = await data.call('GET', '/v1/health');
    expect(health.status).toBe(200);
    const { body } = await data.sql('SELECT current_user AS role');
    expect(body?.rows[0].role).toBe('plinth_service');
  });
});

describe('POST /v1/batch', () => {
  it('runs steps in order in one transaction and answers each', async () => {
    const { status, body } = await data.batch([
      {
        kind: 'query',
        query: { table: 'items', op: 'insert', values: { id: 50, name: 'batch-a' }, returning: ['id'] },
      },
      { kind: 'sql', sql: { text: 'SELECT count(*)::int AS n FROM items WHERE id = $1', params: [50] } },
      { kind: 'query', query: { table: 'items', op: 'delete', where: { column: 'id', op: 'eq', value: 50 } } },
    ]);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body?.results).toEqual([
      { rows: [{ id: 50 }], rowCount: 1 },
      { rows: [{ n: 1 }], columns: [{ name: 'n', type: 'int4' }], rowCount: 1, command: 'SELECT' },
      { rows: [], rowCount: 1 },
    ]);
  });

  it('all or nothing: a failing step rolls back the steps before it, and the answer names the step', async () => {
    const { status, body } = await data.batch([
      { kind: 'query', query: { table: 'items', op: 'insert', values: { id: 60, name: 'batch-b' } } },
      { kind: 'sql', sql: { text: "UPDATE items SET qty = 99 WHERE name = 'apple'" } },
      { kind: 'query', query: { table: 'items', op: 'insert', values: { id: 101, name: 'banana' } } },
    ]);
    expect(status).toBe(409);
    expect(body?.error.details).toMatchObject({ step: 2, constraint: 'items_name_key' });
    expect(await itemCount()).toBe(5);
    const apple = await data.query({
      table: 'items',
      op: 'select',
      where: { column: 'name', op: 'eq', value: 'apple' },
    });
    expect(apple.body?.rows[0].qty).toBe(5);
  });

  it('a step refused before running names its field under steps[i]', async () => {
    const { status, body } = await data.batch([
      { kind: 'query', query: { table: 'items', op: 'insert', values: { id: 61, name: 'batch-c' } } },
      { kind: 'query', query: { table: 'items', op: 'select', where: { column: 'nope', op: 'eq', value: 1 } } },
    ]);
    expect(status).toBe(400);
    expect(body?.error.details).toMatchObject({ step: 1, field: 'steps[1].query.where.column' });
    expect(await itemCount()).toBe(5);
  });
});
