import { describe, expect, it } from 'vitest';
import { useDataServer } from './data-fixture.js';

// Input nested far deeper than any real query, from a caller holding the service key. Each must
// be a 400 naming where it is, never a 500 from a stack overflowing in validation, in the
// compiler or in PostgreSQL.
const data = useDataServer();

const deep = 10_000;

/** `depth` levels of `open` … `close` around `inner`, as JSON text: JSON.stringify itself overflows on such values. */
const nest = (depth: number, open: string, inner: string, close: string) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

const leaf = '{"column":"name","op":"eq","value":"apple"}';

/** POSTs raw JSON text with the service key. */
async function post(path: string, text: string) {
  const response = await fetch(`${data.server().url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${data.server().serviceKey}`, 'content-type': 'application/json' },
    body: text,
  });
  const body = (await response.json()) as { error?: { code: string; message: string; details: { field: string } } };
  return { status: response.status, body, summary: JSON.stringify(body).slice(0, 300) };
}

describe('deeply nested input → 400 naming the field, never a 500', () => {
  it.each([
    ['and', '{"and":[', ']}'],
    ['or', '{"or":[', ']}'],
    ['not', '{"not":', '}'],
  ])('a where nested %s 10 000 deep (POST /v1/query)', async (_label, open, close) => {
    const where = nest(deep, open, leaf, close);
    const { status, body, summary } = await post('/v1/query', `{"table":"items","op":"select","where":${where}}`);
    expect(status, summary).toBe(400);
    expect(body.error?.code).toBe('validation_failed');
    expect(body.error?.details.field).toMatch(/^where\./);
  });

  it('a where nested 10 000 deep in a batch step', async () => {
    const where = nest(deep, '{"and":[', leaf, ']}');
    const query = `{"table":"items","op":"select","where":${where}}`;
    const { status, body, summary } = await post('/v1/batch', `{"steps":[{"kind":"query","query":${query}}]}`);
    expect(status, summary).toBe(400);
    expect(body.error?.details.field).toMatch(/^steps\.0\.query\.where\./);
  });

  it('a text[] value nested 10 000 deep (insert, and in a where)', async () => {
    const tags = nest(deep, '[', '"x"', ']');
    const insert = await post('/v1/query', `{"table":"items","op":"insert","values":{"name":"deep","tags":${tags}}}`);
    expect(insert.status, insert.summary).toBe(400);
    expect(insert.body.error?.details.field).toMatch(/^values\.tags\./);
    const where = await post(
      '/v1/query',
      `{"table":"items","op":"select","where":{"column":"tags","op":"contains","value":${tags}}}`,
    );
    expect(where.status, where.summary).toBe(400);
    expect(where.body.error?.details.field).toMatch(/^where\.value\./);
  });

  it('a jsonb value nested 10 000 deep (insert, and as /v1/sql parameters)', async () => {
    const meta = nest(deep, '{"a":', '1', '}');
    const insert = await post('/v1/query', `{"table":"items","op":"insert","values":{"name":"deep","meta":${meta}}}`);
    expect(insert.status, insert.summary).toBe(400);
    expect(insert.body.error?.details.field).toMatch(/^values\.meta\./);
    const sql = await post('/v1/sql', `{"text":"SELECT $1::jsonb AS doc","params":[${meta}]}`);
    expect(sql.status, sql.summary).toBe(400);
    expect(sql.body.error?.details.field).toMatch(/^params\.0\./);
    const array = await post(
      '/v1/sql',
      `{"text":"SELECT $1::text[] AS list","params":[${nest(deep, '[', '"x"', ']')}]}`,
    );
    expect(array.status, array.summary).toBe(400);
    expect(array.body.error?.details.field).toMatch(/^params\.0\./);
  });

  it('nesting within the limit still works: a where 30 conditions deep, jsonb 60 levels deep', async () => {
    const where = nest(30, '{"and":[', leaf, ']}');
    const query = await post('/v1/query', `{"table":"items","op":"select","where":${where}}`);
    expect(query.status, query.summary).toBe(200);
    const doc = nest(60, '{"a":', '1', '}');
    const sql = await post('/v1/sql', `{"text":"SELECT $1::jsonb AS doc","params":[${doc}]}`);
    expect(sql.status, sql.summary).toBe(200);
    expect((sql.body as unknown as { rows: { doc: unknown }[] }).rows[0]?.doc).toEqual(JSON.parse(doc));
  });

  it('an array of more than 6 dimensions (PostgreSQL’s limit) → 400 naming the field', async () => {
    const tags = nest(7, '[', '"x"', ']');
    const insert = await post('/v1/query', `{"table":"items","op":"insert","values":{"name":"seven","tags":${tags}}}`);
    expect(insert.status, insert.summary).toBe(400);
    expect(insert.body.error?.code).toBe('validation_failed');
    expect(insert.body.error?.details.field).toBe('values.tags');
  });
});

describe('PostgreSQL refusals through /v1/sql → 4xx naming text, never a 500', () => {
  it.each([
    ['54000: an array of 7 dimensions', "SELECT '{{{{{{{1}}}}}}}'::int[] AS a", '54000'],
    ['55000: lastval() before any nextval() in the session', 'SELECT lastval()', '55000'],
    ['3D000: a database that does not exist', "SELECT pg_database_size('no_such_database')", '3D000'],
  ])('%s', async (_label, text, postgresCode) => {
    const { status, body, summary } = await post('/v1/sql', JSON.stringify({ text }));
    expect(status, summary).toBe(400);
    expect(body.error?.code).toBe('validation_failed');
    expect(body.error?.details).toMatchObject({ field: 'text', postgresCode });
  });
});
