import { describe, expect, it } from 'vitest';
import { checkAppSql } from '../../src/data/app-sql.js';
import { HttpError } from '../../src/http/http-error.js';

/** The refusal `checkAppSql` throws, or undefined when the text is allowed. */
async function refusal(text: string): Promise<HttpError | undefined> {
  try {
    await checkAppSql(text);
    return undefined;
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
}

describe('checkAppSql: what app SQL may run, by the PostgreSQL parser', () => {
  it.each([
    'select 1',
    'SELECT * FROM items WHERE id = $1',
    'insert into items (id, name) values ($1, $2) returning id',
    'update items set name = $1 where id = $2',
    'delete from items where id = 1',
    'merge into items t using (select 1 as id) s on t.id = s.id when matched then delete',
    'with gone as (delete from items where id = 1 returning *) select count(*) from gone',
    'values (1), (2)',
    'table items',
    'explain select * from items',
    "select ';SET ROLE postgres' as text, $$ DO $$ as dollar -- SET ROLE postgres",
    '/* DO $$ begin end $$ */ select 1;',
  ])('allows %j', async (text) => {
    expect(await refusal(text)).toBeUndefined();
  });

  it.each([
    [';SET ROLE postgres', 'SET'],
    ['/* /* */ */ SET ROLE postgres', 'SET'],
    ['-- x\rSET ROLE postgres', 'SET'],
    ['RESET ALL', 'SET'],
    ['DO $$ BEGIN END $$', 'DO'],
    ['create function pg_temp.f() returns int language sql as $$ select 1 $$', 'CREATE FUNCTION'],
    ["COPY (select 1) TO PROGRAM 'id'", 'COPY'],
    ['GRANT plinth_service TO plinth_anon', 'GRANT/REVOKE of a role'],
    ["LOAD 'plpgsql'", 'LOAD'],
    ['LISTEN x', 'LISTEN'],
    ['PREPARE p AS select 1', 'PREPARE'],
    ['DECLARE c CURSOR WITH HOLD FOR select 1', 'DECLARE CURSOR'],
    ['BEGIN', 'transaction control (BEGIN, COMMIT, SAVEPOINT, …)'],
    ['DISCARD ALL', 'DISCARD'],
    ['select 1 into temp t', 'SELECT INTO'],
    ['explain analyze create table t as select 1', 'CREATE TABLE AS'],
    ['drop table items', 'DROP'],
    ['alter table items disable row level security', 'ALTER TABLE'],
    ['call pg_temp.p()', 'CALL'],
  ])('refuses %j as %s, with 400 naming the field', async (text, statement) => {
    const error = await refusal(text);
    expect(error?.code).toBe('validation_failed');
    expect(error?.status).toBe(400);
    expect(error?.details).toMatchObject({ field: 'text', statement });
    expect(error?.message).toMatch(/^text: /);
  });

  it('refuses several statements, however they are hidden', async () => {
    for (const text of [
      'select 1; select 2',
      'select 1;/* x */SET ROLE postgres',
      "select 'a'; -- \n DO $$ begin end $$",
    ]) {
      expect((await refusal(text))?.details).toMatchObject({ field: 'text', reason: 'statement_count' });
    }
  });

  it('refuses a text with no statement', async () => {
    expect((await refusal('/* nothing */ ;;'))?.details).toMatchObject({ reason: 'statement_count', statements: 0 });
  });

  it('answers a syntax error with its position', async () => {
    const error = await refusal('selec 1');
    expect(error?.details).toMatchObject({ field: 'text', reason: 'syntax', position: 1 });
  });

  it('answers absurd nesting with a 400, not a crash', async () => {
    for (const text of [`select ${'('.repeat(20_000)}1${')'.repeat(20_000)}`, `select 1${' + 1'.repeat(30_000)}`]) {
      const error = await refusal(text);
      expect(error?.status).toBe(400);
      expect(error?.details).toMatchObject({ field: 'text' });
    }
    expect(await refusal('select 1')).toBeUndefined();
  });
});
