import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Condition, filterOperators, type QueryRequest, queryRequestSchema } from '@plinth/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSchemaDir } from '../../../../test/fixtures/example-schema/index.js';
import { createCursorCodec } from '../../src/data/keyset-cursor.js';
import { compileQuery } from '../../src/data/query-compiler.js';
import { type IntrospectedSchema, introspectSchema } from '../../src/data/schema-introspection.js';
import { readAppSchema } from '../../src/database/app-schema.js';
import type { Database } from '../../src/database/database.js';
import { openDatabase } from '../../src/database/open-database.js';
import { HttpError } from '../../src/http/http-error.js';
import { useDataServer } from './data-fixture.js';

// docs/security.md, "Query AST / filter fuzzing → 0 server errors, 0 statements touching a canary
// table". Two properties, with the counts the issue asks to report (≥ 10 000 cases in CI):
// - the compiler, over 10 000 random ASTs with hostile strings in every identifier and value
//   slot: each AST is refused with a 4xx or compiled into text that holds none of the values
//   and none of the unknown identifiers (values travel only as parameters);
// - the real server, over 5 000 random requests to /v1/query: never a 5xx, and a canary table
//   whose every row access is recorded is never touched.

/** Every generated value carries this character; statement text must never contain it. */
const valueMark = '\u2063';
/** Every generated unknown identifier carries this one. */
const identifierMark = '\u2064';

const compilerRuns = 10_000;
const serverRuns = 5_000;

const injections = [
  `'; DROP TABLE canary; --`,
  `" OR 1=1 --`,
  `'); DELETE FROM public.canary; --`,
  '$1',
  '$$ || (SELECT secret FROM canary) || $$',
  '\\',
  '\u0000',
  '"',
  "'",
  ';',
  '--',
  '/*',
  '*/',
  'canary',
  '"canary"',
  'public.canary',
  '\u202E',
  '𝕏',
  ' ',
  '',
];

const hostileText = fc.oneof(
  fc.constantFrom(...injections),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const markedValue = hostileText.map((text) => `${valueMark}${text}`);
const scalar = fc.oneof(markedValue, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(markedValue, scalar, { maxKeys: 2 }) },
);
const unknownIdentifier = hostileText.map((text) => `${identifierMark}${text}`);

/** What the generator needs to know of a column to give it values of its type. */
interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  readonly isArray: boolean;
  readonly enumValues?: readonly string[] | undefined;
}

const numericTypes = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']);

/** Values a column of this type accepts, hostile text wherever text goes. */
function elementValue(column: ColumnSpec): fc.Arbitrary<unknown> {
  if (column.enumValues && column.enumValues.length > 0) return fc.constantFrom(...column.enumValues);
  if (numericTypes.has(column.type)) return fc.integer({ min: -1000, max: 1000 });
  if (column.type === 'bool') return fc.boolean();
  if (column.type === 'uuid') return fc.uuid();
  if (column.type === 'jsonb' || column.type === 'json') return fc.dictionary(markedValue, scalar, { maxKeys: 2 });
  if (column.type.startsWith('timestamp') || column.type === 'date')
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  return markedValue;
}

const typedValue = (column: ColumnSpec) =>
  column.isArray ? fc.array(elementValue(column), { maxLength: 3 }) : elementValue(column);

/** A leaf whose operator and value suit the column, so most leaves compile. */
function typedLeaf(column: ColumnSpec): fc.Arbitrary<Condition> {
  const ops: fc.Arbitrary<Condition>[] = [
    fc.record({
      column: fc.constant(column.name),
      op: fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte'),
      value: typedValue(column),
    }),
    fc.record({
      column: fc.constant(column.name),
      op: fc.constantFrom('in', 'notIn'),
      value: fc.array(typedValue(column), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ column: fc.constant(column.name), op: fc.constant('isNull'), value: fc.boolean() }),
  ];
  if (!column.isArray && !numericTypes.has(column.type) && column.type !== 'bool')
    ops.push(fc.record({ column: fc.constant(column.name), op: fc.constantFrom('like', 'ilike'), value: markedValue }));
  if (column.isArray || column.type === 'jsonb')
    ops.push(
      fc.record({
        column: fc.constant(column.name),
        op: fc.constantFrom('contains', 'containedBy'),
        value: typedValue(column),
      }),
    );
  return fc.oneof(...ops) as fc.Arbitrary<Condition>;
}

/**
 * ASTs for one table: well-typed most of the time, with hostile text in every text value, and
 * often hostile instead: unknown names in any identifier slot, values of the wrong type, options
 * the operation does not take. `target` fills the table (and schema) slots.
 */
function queryArbitrary(target: fc.Arbitrary<{ schema?: string; table: string }>, columnSpecs: readonly ColumnSpec[]) {
  const names = columnSpecs.map((column) => column.name);
  const column = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: unknownIdentifier },
  );
  const anyLeaf = fc.record({ column, op: fc.constantFrom(...filterOperators), value }) as fc.Arbitrary<Condition>;
  const leaf = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...columnSpecs).chain(typedLeaf) },
    { weight: 1, arbitrary: anyLeaf },
  );
  const condition: fc.Arbitrary<Condition> = fc.letrec<{ condition: Condition }>((tie) => ({
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ and: fc.array(tie('condition'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ or: fc.array(tie('condition'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ not: tie('condition') }),
    ),
  })).condition;
  const typedRow = fc
    .subarray([...columnSpecs], { minLength: 1, maxLength: 3 })
    .chain((chosen) => fc.record(Object.fromEntries(chosen.map((c) => [c.name, typedValue(c)]))));
  const row = fc.oneof(
    { weight: 6, arbitrary: typedRow },
    { weight: 1, arbitrary: fc.dictionary(column, value, { minKeys: 1, maxKeys: 3 }) },
  );
  const slots = {
    columns: fc.array(column, { minLength: 1, maxLength: 3 }),
    where: condition,
    order: fc.array(
      fc.record(
        { column, direction: fc.constantFrom('asc', 'desc'), nulls: fc.constantFrom('first', 'last') },
        { requiredKeys: ['column'] },
      ),
      { maxLength: 2 },
    ),
    limit: fc.nat({ max: 50 }),
    offset: fc.nat({ max: 5 }),
    after: fc.oneof(markedValue, fc.base64String({ maxLength: 40 })),
    count: fc.constantFrom('exact', 'estimated'),
    values: fc.oneof(row, fc.array(row, { minLength: 1, maxLength: 2 })),
    returning: fc.array(column, { minLength: 1, maxLength: 2 }),
    onConflict: fc.array(column, { minLength: 1, maxLength: 2 }),
    ignoreDuplicates: fc.boolean(),
    all: fc.boolean(),
  };
  type Slot = keyof typeof slots;
  const shaped = (
    op: QueryRequest['op'],
    keys: Slot[],
    required: Slot[] = [],
    overrides: Record<string, fc.Arbitrary<unknown>> = {},
  ) =>
    fc.record(
      { target, op: fc.constant(op), ...Object.fromEntries(keys.map((key) => [key, slots[key]])), ...overrides },
      { requiredKeys: ['target', 'op', ...required] as never },
    );
  const query = fc.oneof(
    { weight: 4, arbitrary: shaped('select', ['columns', 'where', 'order', 'limit', 'offset', 'count']) },
    { weight: 1, arbitrary: shaped('select', ['order', 'limit', 'after']) },
    { weight: 2, arbitrary: shaped('insert', ['values', 'returning'], ['values']) },
    { weight: 1, arbitrary: shaped('upsert', ['values', 'returning', 'onConflict', 'ignoreDuplicates'], ['values']) },
    { weight: 2, arbitrary: shaped('update', ['where', 'returning'], ['values', 'where'], { values: row }) },
    { weight: 2, arbitrary: shaped('delete', ['where', 'returning'], ['where']) },
    { weight: 1, arbitrary: shaped('delete', ['returning', 'all']) },
    {
      weight: 1,
      arbitrary: fc.record(
        { target, op: fc.constantFrom('select', 'insert', 'update', 'upsert', 'delete'), ...slots },
        { requiredKeys: ['target', 'op'] },
      ),
    },
  );
  return query.map(({ target: chosen, ...rest }) => ({ ...(chosen as object), ...rest }) as QueryRequest);
}

describe('the query compiler, fuzzed', () => {
  let database: Database;
  let schema: IntrospectedSchema;
  beforeAll(async () => {
    database = await openDatabase('memory', { appSchema: readAppSchema(exampleSchemaDir) });
    schema = await introspectSchema(database, ['public']);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  it(`${compilerRuns} random ASTs with hostile strings: a 4xx, or text with no value and no unknown name in it`, () => {
    const tables = schema.tables.filter((table) => table.kind === 'table');
    const queries = fc.oneof(
      ...tables.map((table) => queryArbitrary(fc.constant({ table: table.name }), table.columns)),
    );
    const cursors = createCursorCodec(new Uint8Array(32).fill(7));
    const outcomes = { compiled: 0, refused: 0 };
    fc.assert(
      fc.property(queries, (query) => {
        const parsed = queryRequestSchema.safeParse(query);
        if (!parsed.success) {
          outcomes.refused++;
          return; // The route's schema refuses it with a 400 before the compiler sees it.
        }
        const table = schema.find('public', parsed.data.table);
        if (!table) throw new Error(`fixture table ${parsed.data.table} vanished`);
        let statements: string[];
        try {
          const compiled = compileQuery(parsed.data, table, { maxRows: 1000, cursors });
          statements = [compiled.statement.text, ...(compiled.count ? [compiled.count.statement.text] : [])];
        } catch (error) {
          if (!(error instanceof HttpError) || error.status >= 500) throw error;
          outcomes.refused++;
          return;
        }
        outcomes.compiled++;
        for (const text of statements) {
          expect(text).not.toContain(valueMark);
          expect(text).not.toContain(identifierMark);
        }
      }),
      { numRuns: compilerRuns },
    );
    // Both branches were exercised; the figures go to the test output (the issue asks for the count).
    expect(outcomes.compiled).toBeGreaterThan(compilerRuns / 100);
    expect(outcomes.refused).toBeGreaterThan(compilerRuns / 100);
    console.info(
      `query compiler fuzz: ${compilerRuns} cases, ${outcomes.compiled} compiled, ${outcomes.refused} refused`,
    );
  });
});

// The canary: in `public`, so a name smuggled through an identifier could reach it, with
// row-level security whose policy records every row it is asked about.
const canarySql = `
CREATE SCHEMA IF NOT EXISTS canary_watch;
CREATE TABLE IF NOT EXISTS canary_watch.touches (at timestamptz NOT NULL DEFAULT now(), by_role text NOT NULL DEFAULT current_user);
CREATE OR REPLACE FUNCTION canary_watch.touched() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  INSERT INTO canary_watch.touches DEFAULT VALUES;
  RETURN true;
END
$$;
GRANT USAGE ON SCHEMA canary_watch TO plinth_service, plinth_anon, plinth_authenticated;
GRANT EXECUTE ON FUNCTION canary_watch.touched() TO plinth_service, plinth_anon, plinth_authenticated;
GRANT SELECT, DELETE ON canary_watch.touches TO plinth_service;
CREATE TABLE IF NOT EXISTS public.canary (id integer PRIMARY KEY, secret text NOT NULL);
INSERT INTO public.canary (id, secret) VALUES (1, 'do not touch') ON CONFLICT (id) DO NOTHING;
ALTER TABLE public.canary ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.canary FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS canary_watch ON public.canary;
CREATE POLICY canary_watch ON public.canary FOR ALL USING (canary_watch.touched()) WITH CHECK (canary_watch.touched());
`;

const schemaWithCanary = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-fuzz-schema-'));
  for (const name of readdirSync(exampleSchemaDir).filter((file) => file.endsWith('.sql')))
    copyFileSync(join(exampleSchemaDir, name), join(dir, name));
  writeFileSync(join(dir, '999-canary.sql'), canarySql);
  return dir;
})();
afterAll(() => rmSync(schemaWithCanary, { recursive: true, force: true }));

describe('the data API, fuzzed end to end', () => {
  const data = useDataServer({ schemaDir: schemaWithCanary });

  it('the canary’s alarm works: a deliberate read through /v1/sql is recorded', async () => {
    const read = await data.sql('SELECT count(*)::int AS n FROM public.canary');
    expect(read.body?.rows).toEqual([{ n: 1 }]);
    const touches = await data.sql('SELECT count(*)::int AS n FROM canary_watch.touches');
    expect(touches.body?.rows[0].n).toBeGreaterThan(0);
  });

  it(`${serverRuns} random requests: never a 5xx, and the canary is never touched`, async () => {
    // Forget the deliberate read above; from here on, any touch is a failure.
    await data.sql('DELETE FROM canary_watch.touches');
    const described = (await data.schema()).body?.tables as { schema: string; name: string; columns: ColumnSpec[] }[];
    const exposed = described.filter((table) => table.schema === 'public' && table.name !== 'canary');
    expect(exposed.map((table) => table.name)).toEqual(expect.arrayContaining(['items', 'posts', 'comments', 'notes']));
    const columnsOf = (name: string) => exposed.find((table) => table.name === name)?.columns ?? [];
    // Real tables with their own columns, and hostile targets (Plinth's schemas, catalogs, the
    // canary by smuggled names) with the columns of items and of the canary.
    const hostileTargets = fc.oneof(
      fc.constantFrom(
        { schema: 'plinth', table: 'users' },
        { schema: 'auth', table: 'users' },
        { schema: 'pg_catalog', table: 'pg_authid' },
        { schema: 'canary_watch', table: 'touches' },
        { table: 'canary"; --' },
        { table: 'public.canary' },
        { table: '"canary"' },
        { table: 'items"; DELETE FROM "canary' },
      ),
      unknownIdentifier.map((table) => ({ table })),
      fc.record({ schema: unknownIdentifier, table: fc.constantFrom('items', 'posts') }),
    );
    const canaryColumns: ColumnSpec[] = [
      { name: 'id', type: 'int4', isArray: false },
      { name: 'secret', type: 'text', isArray: false },
    ];
    const queries = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.oneof(
          ...exposed.map((table) => queryArbitrary(fc.constant({ table: table.name }), table.columns)),
        ),
      },
      { weight: 1, arbitrary: queryArbitrary(hostileTargets, [...columnsOf('items'), ...canaryColumns]) },
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(queries, async (query) => {
        const answer = await data.query(query as Record<string, unknown>);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500)
          throw new Error(`${answer.status} for ${JSON.stringify(query)}: ${JSON.stringify(answer.body)}`);
        if (answer.status >= 400) expect(answer.body?.error?.code).toEqual(expect.any(String));
      }),
      { numRuns: serverRuns },
    );
    const touches = await data.sql('SELECT count(*)::int AS n FROM canary_watch.touches');
    expect(touches.body?.rows).toEqual([{ n: 0 }]);
    const canary = await data.sql('SELECT id, secret FROM public.canary');
    expect(canary.body?.rows).toEqual([{ id: 1, secret: 'do not touch' }]);
    console.info(`data API fuzz: ${serverRuns} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 300_000);
});
