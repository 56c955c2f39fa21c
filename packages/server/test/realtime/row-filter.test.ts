import type { Condition } from '@plinth/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../src/data/keyset-cursor.js';
import { compileQuery } from '../../src/data/query-compiler.js';
import { type ColumnInfo, introspectSchema, type TableInfo } from '../../src/data/schema-introspection.js';
import { ownerRole } from '../../src/database/app-schema.js';
import type { Database } from '../../src/database/database.js';
import { openDatabase } from '../../src/database/open-database.js';
import { HttpError } from '../../src/http/http-error.js';
import { compileRowFilter, type RowFilterOptions } from '../../src/realtime/row-filter.js';

// The in-memory filter must give PostgreSQL's answer for the statement the query compiler emits.
// The tables below pin each operator on each column kind (three-valued results read through
// `not`), every refusal (and that the compiler's own refusals come out identical), hostile input;
// then a property test puts random rows and random conditions through a real PGlite and compares.

const categories: Record<string, string> = {
  int2: 'N',
  int4: 'N',
  int8: 'N',
  numeric: 'N',
  float4: 'N',
  float8: 'N',
  text: 'S',
  varchar: 'S',
  bpchar: 'S',
  name: 'S',
  citext: 'S',
  bool: 'B',
  uuid: 'U',
  date: 'D',
  timestamp: 'D',
  timestamptz: 'D',
  interval: 'T',
  json: 'U',
  jsonb: 'U',
  mood: 'E',
};

/** A column as schema introspection describes it. */
function column(name: string, type: string, extra: { isArray?: boolean; enumValues?: string[]; schema?: string } = {}) {
  const isArray = extra.isArray ?? false;
  const schema = extra.schema ?? (extra.enumValues ? 'public' : 'pg_catalog');
  const info: ColumnInfo = {
    name,
    type,
    isArray,
    nullable: true,
    hasDefault: false,
    default: null,
    ...(extra.enumValues ? { enumValues: extra.enumValues } : {}),
    castType: `"${schema}"."${isArray ? '_' : ''}${type}"`,
    elementCastType: `"${schema}"."${type}"`,
    category: categories[type] ?? 'U',
  };
  return info;
}

const moods = ['happy', 'calm', 'sad'];
const columns = [
  column('id', 'int4'),
  column('qty', 'int4'),
  column('small', 'int2'),
  column('big', 'int8'),
  column('price', 'numeric'),
  column('score', 'float8'),
  column('ratio', 'float4'),
  column('title', 'text'),
  column('label', 'varchar'),
  column('code', 'bpchar'),
  column('ident', 'name'),
  column('nick', 'citext', { schema: 'public' }),
  column('flag', 'bool'),
  column('uid', 'uuid'),
  column('mood', 'mood', { enumValues: moods }),
  column('day', 'date'),
  column('at', 'timestamptz'),
  column('local', 'timestamp'),
  column('meta', 'jsonb'),
  column('doc', 'json'),
  column('span', 'interval'),
  column('tags', 'text', { isArray: true }),
  column('nums', 'int4', { isArray: true }),
  column('moods', 'mood', { isArray: true, enumValues: moods }),
  column('stamps', 'timestamptz', { isArray: true }),
  column('docs', 'jsonb', { isArray: true }),
  column('constructor', 'int4'),
];
const byName = new Map(columns.map((c) => [c.name, c]));
const columnOf = (name: string) => byName.get(name);
const things: TableInfo = {
  schema: 'public',
  name: 'things',
  kind: 'table',
  columns,
  column: byName,
  primaryKey: ['id'],
  foreignKeys: [],
  constraintColumns: new Map(),
};
const cursors = createCursorCodec(new Uint8Array(32).fill(7));

const compile = (where: unknown, options?: RowFilterOptions) =>
  compileRowFilter(where as Condition, columnOf, 'where', options);

/** SQL's truth value of `where` for `row`: the filter answers true only for true, and `not` tells false from unknown. */
function truth(where: unknown, row: unknown, options?: RowFilterOptions): boolean | null {
  const yes = compile(where, options)(row);
  const no = compile({ not: where }, options)(row);
  if (yes && no) throw new Error(`both ${JSON.stringify(where)} and its negation hold`);
  return yes ? true : no ? false : null;
}

function refusal(where: unknown, options?: RowFilterOptions, field?: string): HttpError {
  try {
    compileRowFilter(where as Condition, columnOf, field, options);
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error(`not refused: ${JSON.stringify(where)}`);
}

function compilerRefusal(where: unknown): HttpError {
  try {
    compileQuery({ table: 'things', op: 'select', where: where as Condition }, things, { maxRows: 10, cursors });
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error(`the compiler took ${JSON.stringify(where)}`);
}

const leaf = (name: string, op: string, value?: unknown) =>
  (value === undefined ? { column: name, op } : { column: name, op, value }) as Condition;

type Case = [string, Condition, Record<string, unknown>, boolean | null];

const cases: Record<string, Case[]> = {
  'integers and numeric': [
    ['eq', leaf('qty', 'eq', 5), { qty: 5 }, true],
    ['eq, other value', leaf('qty', 'eq', 5), { qty: 6 }, false],
    ['eq on NULL is unknown', leaf('qty', 'eq', 5), { qty: null }, null],
    ['neq on NULL is unknown', leaf('qty', 'neq', 5), { qty: null }, null],
    ['a missing column is unknown', leaf('qty', 'eq', 5), {}, null],
    ['value as a string', leaf('qty', 'eq', '5'), { qty: 5 }, true],
    ['gt', leaf('qty', 'gt', 5), { qty: 6 }, true],
    ['gt, equal', leaf('qty', 'gt', 5), { qty: 5 }, false],
    ['gte', leaf('qty', 'gte', 5), { qty: 5 }, true],
    ['lt', leaf('qty', 'lt', -1), { qty: -2 }, true],
    ['lte', leaf('qty', 'lte', -1), { qty: 0 }, false],
    ['int2', leaf('small', 'lt', 0), { small: -32768 }, true],
    ['int8 past 2^53 as strings, eq', leaf('big', 'eq', '9007199254740993'), { big: '9007199254740993' }, true],
    ['int8 past 2^53 as strings, one apart', leaf('big', 'eq', '9007199254740993'), { big: '9007199254740992' }, false],
    ['int8 past 2^53, gt', leaf('big', 'gt', '9007199254740992'), { big: '9007199254740993' }, true],
    ['int8 as a bigint in the row', leaf('big', 'eq', '9007199254740993'), { big: 9007199254740993n }, true],
    ['numeric 1.10 = 1.1', leaf('price', 'eq', '1.10'), { price: 1.1 }, true],
    ['numeric 1.1 = "1.10"', leaf('price', 'eq', 1.1), { price: '1.10' }, true],
    ['numeric 1e2 = 100', leaf('price', 'eq', '1e2'), { price: 100 }, true],
    ['numeric 10 is not 1', leaf('price', 'eq', '10'), { price: 1 }, false],
    ['numeric in, by value not digits', leaf('price', 'in', ['10', '0.1']), { price: 1 }, false],
    ['numeric -0 = 0', leaf('price', 'eq', '-0'), { price: 0 }, true],
    ['numeric exact past a double', leaf('price', 'gt', '0.1'), { price: '0.1000000000000000001' }, true],
    ['numeric exact past a double, eq', leaf('price', 'eq', 0.1), { price: '0.1000000000000000001' }, false],
    ['numeric negative order', leaf('price', 'lt', '-1.5'), { price: -2 }, true],
    ['numeric small magnitudes', leaf('price', 'gt', '0.001'), { price: 0.01 }, true],
    ['numeric NaN above Infinity', leaf('price', 'gt', 'Infinity'), { price: 'NaN' }, true],
    ['numeric NaN = NaN', leaf('price', 'eq', 'NaN'), { price: 'NaN' }, true],
    ['numeric below NaN', leaf('price', 'lt', 'NaN'), { price: 1e300 }, true],
    ['numeric -Infinity lowest', leaf('price', 'lt', -1e300), { price: '-Infinity' }, true],
    ['numeric +Infinity', leaf('price', 'eq', '+Infinity'), { price: 'Infinity' }, true],
    ['a row value of another type is unknown', leaf('qty', 'eq', 5), { qty: 'five' }, null],
  ],
  floats: [
    ['float8 NaN = NaN', leaf('score', 'eq', 'NaN'), { score: 'NaN' }, true],
    ['float8 NaN above all', leaf('score', 'gt', 1e308), { score: 'NaN' }, true],
    ['float8 -0 = 0', leaf('score', 'eq', 0), { score: -0 }, true],
    ['float8 0.1', leaf('score', 'eq', '0.1'), { score: 0.1 }, true],
    ['float8 Infinity', leaf('score', 'gt', 1e308), { score: 'Infinity' }, true],
    ['float4 compares in float4', leaf('ratio', 'eq', 0.10000000149011612), { ratio: 0.1 }, true],
    ['float4 neighbours', leaf('ratio', 'lt', 0.2), { ratio: 0.1 }, true],
  ],
  text: [
    ['eq', leaf('title', 'eq', 'a'), { title: 'a' }, true],
    ['eq is case-sensitive', leaf('title', 'eq', 'a'), { title: 'A' }, false],
    ['order is by code point: b > B', leaf('title', 'gt', 'B'), { title: 'b' }, true],
    ['order is by code point: U+E000 < U+1F600', leaf('title', 'lt', '😀'), { title: '\uE000' }, true],
    ['a prefix sorts first', leaf('title', 'gt', 'a'), { title: 'ab' }, true],
    ['empty text', leaf('title', 'lt', 'a'), { title: '' }, true],
    ['numbers as text', leaf('title', 'eq', 5), { title: '5' }, true],
    ['varchar', leaf('label', 'eq', 'x'), { label: 'x' }, true],
    ['char(n) ignores trailing spaces', leaf('code', 'eq', 'ab'), { code: 'ab  ' }, true],
    ['char(n) ignores trailing spaces in the value', leaf('code', 'eq', 'ab '), { code: 'ab' }, true],
    ['char(n) order', leaf('code', 'lt', 'ab'), { code: 'a   ' }, true],
    ['name keeps 63 bytes', leaf('ident', 'eq', 'x'.repeat(70)), { ident: 'x'.repeat(63) }, true],
  ],
  'booleans, uuids, enums': [
    ['bool eq', leaf('flag', 'eq', true), { flag: true }, true],
    ['bool order', leaf('flag', 'lt', true), { flag: false }, true],
    [
      'uuid: braces, capitals and no hyphens',
      leaf('uid', 'eq', '{A0EEBC999C0B4EF8BB6D6BB9BD380A11}'),
      { uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      true,
    ],
    [
      'uuid order',
      leaf('uid', 'gt', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      { uid: 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      true,
    ],
    ['enum order is the type’s, not the labels’', leaf('mood', 'gt', 'happy'), { mood: 'calm' }, true],
    ['enum order', leaf('mood', 'lt', 'calm'), { mood: 'sad' }, false],
    ['enum eq', leaf('mood', 'eq', 'sad'), { mood: 'sad' }, true],
    ['an enum label newer than the snapshot: order unknown', leaf('mood', 'gt', 'happy'), { mood: 'angry' }, null],
    ['an enum label newer than the snapshot: eq exact', leaf('mood', 'eq', 'happy'), { mood: 'angry' }, false],
  ],
  'dates and times': [
    ['date eq', leaf('day', 'eq', '2026-12-02'), { day: '2026-12-02' }, true],
    ['date order', leaf('day', 'lt', '2026-12-02'), { day: '2026-12-01' }, true],
    ['date infinity', leaf('day', 'gt', '9999-12-31'), { day: 'infinity' }, true],
    ['date -infinity', leaf('day', 'lt', '0001-01-01'), { day: '-infinity' }, true],
    ['date infinity = infinity', leaf('day', 'eq', 'Infinity'), { day: 'infinity' }, true],
    ['date BC', leaf('day', 'lt', '0001-01-01'), { day: '0044-03-15 BC' }, true],
    ['date leap day', leaf('day', 'eq', '2000-02-29'), { day: '2000-02-29' }, true],
    ['timestamptz Z = +00:00', leaf('at', 'eq', '2026-01-01T00:00:00Z'), { at: '2026-01-01T00:00:00+00:00' }, true],
    ['timestamptz across offsets', leaf('at', 'eq', '2026-01-01T00:00:00Z'), { at: '2026-01-01T05:30:00+05:30' }, true],
    [
      'timestamptz offset +0530',
      leaf('at', 'eq', '2026-01-01T05:30:00+0530'),
      { at: '2026-01-01T00:00:00+00:00' },
      true,
    ],
    [
      'timestamptz negative offset',
      leaf('at', 'eq', '2025-12-31T19:00:00-05'),
      { at: '2026-01-01T00:00:00+00:00' },
      true,
    ],
    [
      'timestamptz keeps microseconds',
      leaf('at', 'gt', '2026-01-01T00:00:00Z'),
      { at: '2026-01-01T00:00:00.000001+00:00' },
      true,
    ],
    ['timestamptz fraction', leaf('at', 'eq', '2026-01-01T00:00:00.5Z'), { at: '2026-01-01T00:00:00.500+00:00' }, true],
    [
      'timestamptz space and no seconds',
      leaf('at', 'eq', '2026-01-01 00:00Z'),
      { at: '2026-01-01T00:00:00+00:00' },
      true,
    ],
    [
      'timestamptz historical offset',
      leaf('at', 'eq', '1900-01-01T00:00:00Z'),
      { at: '1900-01-01T00:53:28+00:53:28' },
      true,
    ],
    ['timestamptz infinity', leaf('at', 'gt', '9999-12-31T23:59:59Z'), { at: 'infinity' }, true],
    ['timestamptz BC', leaf('at', 'lt', '0001-01-01T00:00:00Z'), { at: '0044-03-15T00:00:00+00:00 BC' }, true],
    [
      'timestamptz years past 9999',
      leaf('at', 'gt', '9999-12-31T23:59:59Z'),
      { at: '10000-01-01T00:00:00+00:00' },
      true,
    ],
    [
      'timestamptz row without offset is not one',
      leaf('at', 'eq', '2026-01-01T00:00:00Z'),
      { at: '2026-01-01T00:00:00' },
      null,
    ],
    ['timestamp eq', leaf('local', 'eq', '2026-01-01T00:00:00'), { local: '2026-01-01T00:00:00' }, true],
    ['timestamp order', leaf('local', 'lt', '2026-01-01T00:00:00.000001'), { local: '2026-01-01T00:00:00' }, true],
  ],
  jsonb: [
    ['eq ignores key order', leaf('meta', 'eq', { a: 1, b: [1, 2] }), { meta: { b: [1, 2], a: 1 } }, true],
    ['eq is typed', leaf('meta', 'eq', { a: 1 }), { meta: { a: '1' } }, false],
    ['eq on a scalar', leaf('meta', 'eq', 'x'), { meta: 'x' }, true],
    ['array order matters', leaf('meta', 'eq', [1, 2]), { meta: [2, 1] }, false],
    ['string < number', leaf('meta', 'lt', 1), { meta: '1' }, true],
    ['number < boolean', leaf('meta', 'lt', false), { meta: 99 }, true],
    ['array < object', leaf('meta', 'lt', {}), { meta: [1, 2, 3] }, true],
    ['a scalar < an array of one', leaf('meta', 'lt', [1]), { meta: 1 }, true],
    ['[] sorts below every scalar', leaf('meta', 'lt', false), { meta: [] }, true],
    ['a longer array sorts above a scalar', leaf('meta', 'gt', 'x'), { meta: [1, 2] }, true],
    ['more pairs sort higher', leaf('meta', 'gt', { z: 9 }), { meta: { a: 1, b: 1 } }, true],
    ['keys compare shortest first', leaf('meta', 'gt', { bb: 1 }), { meta: { c: 1 } }, true],
    ['values after keys', leaf('meta', 'gt', { a: 1 }), { meta: { a: 2 } }, true],
    ['nested arrays by length first', leaf('meta', 'gt', [[1, 2]]), { meta: [[3]] }, false],
  ],
  arrays: [
    ['eq', leaf('nums', 'eq', [1, 2]), { nums: [1, 2] }, true],
    ['eq is ordered', leaf('nums', 'eq', [1, 2]), { nums: [2, 1] }, false],
    ['two NULL elements are equal', leaf('nums', 'eq', [1, null]), { nums: [1, null] }, true],
    ['a NULL element sorts above a value', leaf('nums', 'gt', [1, 2]), { nums: [1, null] }, true],
    ['a longer array sorts higher', leaf('nums', 'gt', [1, 2]), { nums: [1, 2, 3] }, true],
    ['elements before length', leaf('nums', 'lt', [1, 2]), { nums: [0, 9, 9] }, true],
    ['dimensions count', leaf('nums', 'eq', [1, 2]), { nums: [[1, 2]] }, false],
    [
      '2-D eq',
      leaf('nums', 'eq', [
        [1, 2],
        [3, 4],
      ]),
      {
        nums: [
          [1, 2],
          [3, 4],
        ],
      },
      true,
    ],
    [
      'same elements, other shape',
      leaf('nums', 'gt', [1, 2, 3, 4]),
      {
        nums: [
          [1, 2],
          [3, 4],
        ],
      },
      true,
    ],
    ['empty below any', leaf('nums', 'lt', [1]), { nums: [] }, true],
    ['text[] eq', leaf('tags', 'eq', ['a', 'b']), { tags: ['a', 'b'] }, true],
    ['text[] order by code point', leaf('tags', 'lt', ['😀']), { tags: ['\uE000'] }, true],
    ['contains', leaf('tags', 'contains', ['a']), { tags: ['a', 'b'] }, true],
    ['contains, missing', leaf('tags', 'contains', ['c']), { tags: ['a', 'b'] }, false],
    ['contains duplicates', leaf('tags', 'contains', ['a', 'a']), { tags: ['a'] }, true],
    ['contains nothing', leaf('tags', 'contains', []), { tags: [] }, true],
    ['a NULL on the right is contained by nothing', leaf('tags', 'contains', [null]), { tags: [null] }, false],
    ['a NULL on the left is not a value', leaf('tags', 'contains', ['a']), { tags: ['a', null] }, true],
    ['containedBy', leaf('tags', 'containedBy', ['a', 'b']), { tags: ['b'] }, true],
    ['containedBy, a NULL element is not', leaf('tags', 'containedBy', ['a', null]), { tags: ['a', null] }, false],
    ['containedBy, empty', leaf('tags', 'containedBy', ['a']), { tags: [] }, true],
    [
      'contains ignores dimensions',
      leaf('nums', 'contains', [4, 1]),
      {
        nums: [
          [1, 2],
          [3, 4],
        ],
      },
      true,
    ],
    ['contains on a NULL array is unknown', leaf('tags', 'contains', ['a']), { tags: null }, null],
    ['enum[] contains', leaf('moods', 'contains', ['sad']), { moods: ['calm', 'sad'] }, true],
    [
      'timestamptz[] contains by instant',
      leaf('stamps', 'contains', ['2026-01-01T00:00:00Z']),
      { stamps: ['2026-01-01T01:00:00+01:00'] },
      true,
    ],
    ['a ragged row array is not an array', leaf('nums', 'eq', [1]), { nums: [[1], 2] }, null],
  ],
  'in and notIn': [
    ['in', leaf('qty', 'in', [1, 2]), { qty: 2 }, true],
    ['in, no match', leaf('qty', 'in', [1, 2]), { qty: 3 }, false],
    ['in, no match but a NULL listed: unknown', leaf('qty', 'in', [1, null]), { qty: 3 }, null],
    ['in, a match beside a NULL', leaf('qty', 'in', [1, null]), { qty: 1 }, true],
    ['notIn, a NULL listed: never true', leaf('qty', 'notIn', [1, null]), { qty: 3 }, null],
    ['notIn, a match', leaf('qty', 'notIn', [1, null]), { qty: 1 }, false],
    ['notIn', leaf('qty', 'notIn', [1, 2]), { qty: 3 }, true],
    ['in on NULL', leaf('qty', 'in', [1]), { qty: null }, null],
    ['notIn on NULL', leaf('qty', 'notIn', [1]), { qty: null }, null],
    ['in an empty list: false, even for NULL', leaf('qty', 'in', []), { qty: null }, false],
    ['notIn an empty list: true, even for NULL', leaf('qty', 'notIn', []), { qty: null }, true],
    ['numeric in, by value', leaf('price', 'in', ['1.0', 2]), { price: 1 }, true],
    ['float in, NaN', leaf('score', 'in', ['NaN']), { score: 'NaN' }, true],
    ['text in', leaf('title', 'in', ['a', 'b']), { title: 'b' }, true],
    ['jsonb in', leaf('meta', 'in', [{ a: 1, b: 2 }, [1]]), { meta: { b: 2, a: 1 } }, true],
    [
      'timestamptz in, by instant',
      leaf('at', 'in', ['2026-01-01T00:00:00Z']),
      { at: '2026-01-01T01:00:00+01:00' },
      true,
    ],
    [
      'uuid in',
      leaf('uid', 'in', ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11']),
      { uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      true,
    ],
    ['enum notIn', leaf('mood', 'notIn', ['sad']), { mood: 'calm' }, true],
  ],
  'like and ilike': [
    ['prefix', leaf('title', 'like', 'a%'), { title: 'abc' }, true],
    ['_ is one character', leaf('title', 'like', 'a_c'), { title: 'abc' }, true],
    ['_ is exactly one', leaf('title', 'like', 'a_c'), { title: 'ac' }, false],
    ['_ is not %', leaf('title', 'like', 'a_'), { title: 'abc' }, false],
    ['_ is one code point', leaf('title', 'like', '_'), { title: '😀' }, true],
    ['__ is two code points', leaf('title', 'like', '__'), { title: '😀' }, false],
    ['escaped %', leaf('title', 'like', 'a\\%'), { title: 'a%' }, true],
    ['escaped % is not a wildcard', leaf('title', 'like', 'a\\%'), { title: 'ab' }, false],
    ['escaped _', leaf('title', 'like', '%\\_%'), { title: 'x_y' }, true],
    ['escaped _ is not a wildcard', leaf('title', 'like', '%\\_%'), { title: 'xy' }, false],
    ['escaped backslash', leaf('title', 'like', 'a\\\\b'), { title: 'a\\b' }, true],
    ['an escaped letter is the letter', leaf('title', 'like', 'a\\b'), { title: 'ab' }, true],
    ['% matches nothing', leaf('title', 'like', '%'), { title: '' }, true],
    ['the empty pattern', leaf('title', 'like', ''), { title: '' }, true],
    ['pieces in order', leaf('title', 'like', '%a%b%c'), { title: 'xaxbxc' }, true],
    ['pieces out of order', leaf('title', 'like', '%a%b%c'), { title: 'cba' }, false],
    ['pieces do not overlap', leaf('title', 'like', 'a%a'), { title: 'a' }, false],
    ['_%_', leaf('title', 'like', '_%_'), { title: 'ab' }, true],
    ['_%_ needs two', leaf('title', 'like', '_%_'), { title: 'a' }, false],
    ['% crosses lines', leaf('title', 'like', 'x%y'), { title: 'x\ny' }, true],
    ['regex characters are literal', leaf('title', 'like', 'a.c'), { title: 'abc' }, false],
    ['like is case-sensitive', leaf('title', 'like', 'a%'), { title: 'ABC' }, false],
    ['ilike', leaf('title', 'ilike', 'a%'), { title: 'ABC' }, true],
    ['ilike lowers the pattern too', leaf('title', 'ilike', 'ABC'), { title: 'abc' }, true],
    ['ilike beyond ASCII', leaf('title', 'ilike', 'ä%'), { title: 'ÄB' }, true],
    ['ilike: İ lowers to i (simple mapping)', leaf('title', 'ilike', 'i'), { title: 'İ' }, true],
    ['ilike: Σ lowers to σ wherever it is', leaf('title', 'ilike', 'ασ'), { title: 'ΑΣ' }, true],
    ['like on NULL', leaf('title', 'like', '%'), { title: null }, null],
    ['like on char(n) sees the padding', leaf('code', 'like', 'ab'), { code: 'ab ' }, false],
    ['like on char(n), padding matched', leaf('code', 'like', 'ab%'), { code: 'ab ' }, true],
    ['like on varchar', leaf('label', 'like', '%x'), { label: 'yx' }, true],
  ],
  isNull: [
    ['true on NULL', leaf('qty', 'isNull', true), { qty: null }, true],
    ['true on a value', leaf('qty', 'isNull', true), { qty: 0 }, false],
    ['false on NULL', leaf('qty', 'isNull', false), { qty: null }, false],
    ['false on a value', leaf('qty', 'isNull', false), { qty: 0 }, true],
    ['no value means true', leaf('qty', 'isNull'), { qty: null }, true],
    ['a missing column is unknown, not NULL', leaf('qty', 'isNull', true), {}, null],
    ['on a type not modelled', leaf('span', 'isNull', false), { span: '1 day' }, true],
    ['on json', leaf('doc', 'isNull', true), { doc: null }, true],
    ['a column named like a prototype key', leaf('constructor', 'isNull', true), {}, null],
  ],
  'jsonb containment': [
    ['object pair', leaf('meta', 'contains', { a: 1 }), { meta: { a: 1, b: 2 } }, true],
    ['object pair, other value', leaf('meta', 'contains', { a: 2 }), { meta: { a: 1 } }, false],
    ['nested object', leaf('meta', 'contains', { a: {} }), { meta: { a: { b: 1 } } }, true],
    ['a scalar does not match an array value', leaf('meta', 'contains', { a: 1 }), { meta: { a: [1, 2] } }, false],
    ['nested array', leaf('meta', 'contains', { a: [2] }), { meta: { a: [1, 2] } }, true],
    ['array subset', leaf('meta', 'contains', [1]), { meta: [1, 2] }, true],
    ['a top-level array contains a scalar', leaf('meta', 'contains', 1), { meta: [1, 2] }, true],
    ['a scalar does not contain an array', leaf('meta', 'contains', [1]), { meta: 1 }, false],
    ['a scalar contains itself', leaf('meta', 'contains', 1), { meta: 1 }, true],
    ['nested arrays match level by level', leaf('meta', 'contains', [[1]]), { meta: [[1, 2]] }, true],
    ['no level skipped', leaf('meta', 'contains', [1]), { meta: [[1, 2]] }, false],
    ['an object does not contain an array', leaf('meta', 'contains', []), { meta: {} }, false],
    ['an array does not contain an object', leaf('meta', 'contains', {}), { meta: [] }, false],
    ['an object inside an array', leaf('meta', 'contains', [{ a: 1 }]), { meta: [{ a: 1, b: 2 }, 3] }, true],
    ['types are not converted', leaf('meta', 'contains', ['1']), { meta: [1] }, false],
    ['containedBy', leaf('meta', 'containedBy', { a: 1, b: 2 }), { meta: { a: 1 } }, true],
    ['containedBy, extra key', leaf('meta', 'containedBy', { a: 1 }), { meta: { a: 1, c: 3 } }, false],
    ['contains on a NULL row', leaf('meta', 'contains', { a: 1 }), { meta: null }, null],
    ['contains NULL (value null) is unknown', leaf('meta', 'contains', null), { meta: { a: 1 } }, null],
    ['contains with no value is unknown', leaf('meta', 'contains'), { meta: { a: 1 } }, null],
    ['json columns compare as jsonb', leaf('doc', 'contains', { a: 1 }), { doc: { a: 1, b: 1 } }, true],
  ],
  'three-valued logic': [
    [
      'and: false beats unknown',
      { and: [leaf('qty', 'eq', 1), leaf('title', 'eq', 'x')] },
      { qty: null, title: 'y' },
      false,
    ],
    [
      'and: unknown beats true',
      { and: [leaf('qty', 'eq', 1), leaf('title', 'eq', 'x')] },
      { qty: null, title: 'x' },
      null,
    ],
    ['and: all true', { and: [leaf('qty', 'eq', 1), leaf('title', 'eq', 'x')] }, { qty: 1, title: 'x' }, true],
    [
      'or: true beats unknown',
      { or: [leaf('qty', 'eq', 1), leaf('title', 'eq', 'x')] },
      { qty: null, title: 'x' },
      true,
    ],
    [
      'or: unknown beats false',
      { or: [leaf('qty', 'eq', 1), leaf('title', 'eq', 'x')] },
      { qty: null, title: 'y' },
      null,
    ],
    ['or: all false', { or: [leaf('qty', 'eq', 1), leaf('title', 'eq', 'x')] }, { qty: 2, title: 'y' }, false],
    ['not of unknown', { not: leaf('qty', 'eq', 1) }, { qty: null }, null],
    ['not not of unknown', { not: { not: leaf('qty', 'eq', 1) } }, { qty: null }, null],
    ['not of false', { not: leaf('qty', 'eq', 1) }, { qty: 2 }, true],
    [
      'not (a or b) with one unknown',
      { not: { or: [leaf('qty', 'eq', 1), leaf('title', 'eq', 'x')] } },
      { qty: null, title: 'y' },
      null,
    ],
  ],
};

describe('compileRowFilter, case by case', () => {
  for (const [group, list] of Object.entries(cases)) {
    describe(group, () => {
      it.each(list)('%s', (_, where, row, expected) => {
        expect(truth(where, row)).toBe(expected);
      });
    });
  }

  it('answers false, not unknown-as-true, at the top', () => {
    expect(compile(leaf('qty', 'eq', 1))({ qty: null })).toBe(false);
    expect(compile({ not: leaf('qty', 'eq', 1) })({ qty: null })).toBe(false);
  });

  it('lower-cases only A–Z for ilike when told the ctype is C', () => {
    const ascii: RowFilterOptions = { ilikeCase: 'ascii' };
    expect(truth(leaf('title', 'ilike', 'ab%'), { title: 'ABc' }, ascii)).toBe(true);
    expect(truth(leaf('title', 'ilike', 'ä%'), { title: 'ÄB' }, ascii)).toBe(false);
    expect(truth(leaf('title', 'ilike', 'ä%'), { title: 'äB' }, ascii)).toBe(true);
    expect(truth(leaf('title', 'ilike', 'i'), { title: 'İ' }, ascii)).toBe(false);
  });

  it('matches a pattern of many % against long text without backtracking blow-up', () => {
    // A RegExp of `.*a.*a…b` takes time exponential in the pieces on this input; the test
    // would then run into vitest's timeout rather than answer.
    const where = leaf('title', 'like', `${'%a'.repeat(24)}%b`);
    expect(truth(where, { title: 'a'.repeat(20_000) })).toBe(false);
    expect(truth(where, { title: `${'a'.repeat(20_000)}b` })).toBe(true);
  });

  it('takes any root name for the paths in its errors', () => {
    expect(refusal(leaf('nope', 'eq', 1), undefined, 'filter').details?.field).toBe('filter.column');
  });
});

/** [what, condition, field, message pattern]: refused by the compiler too, with the same message. */
const sharedRefusals: [string, unknown, string, RegExp][] = [
  ['eq without a value', leaf('qty', 'eq'), 'where.value', /eq needs a value; to match NULL use/],
  ['eq with null', leaf('qty', 'eq', null), 'where.value', /eq needs a value/],
  ['text for an integer', leaf('qty', 'eq', 'abc'), 'where.value', /is int4 and takes a whole number/],
  ['a fraction for an integer', leaf('qty', 'gt', 2.5), 'where.value', /whole number/],
  ['out of int4 range', leaf('qty', 'lt', 2 ** 40), 'where.value', /from -2147483648 to 2147483647/],
  ['out of int2 range', leaf('small', 'lt', 40_000), 'where.value', /from -32768 to 32767/],
  ['NaN for numeric', leaf('price', 'eq', Number.NaN), 'where.value', /takes a number/],
  ['an object for numeric', leaf('price', 'eq', {}), 'where.value', /takes a number; got an object/],
  ['text for a boolean', leaf('flag', 'eq', 'yes'), 'where.value', /takes true or false/],
  ['not a uuid', leaf('uid', 'eq', 'nope'), 'where.value', /takes a UUID/],
  ['not a label', leaf('mood', 'eq', 'angry'), 'where.value', /one of "happy", "calm", "sad"/],
  ['not an array, for an array', leaf('tags', 'eq', 'a'), 'where.value', /is text\[\] and takes an array/],
  ['a bad element', leaf('nums', 'eq', [1, 'x']), 'where.value[1]', /takes a whole number/],
  ['a bad nested element', leaf('nums', 'eq', [[1, 'x']]), 'where.value[0][1]', /takes a whole number/],
  ['an object for text', leaf('title', 'eq', { a: 1 }), 'where.value', /takes a string; got an object/],
  ['like on an integer', leaf('qty', 'like', '1%'), 'where.value', /like works on text columns; "qty" is int4/],
  ['ilike on an enum', leaf('mood', 'ilike', 'h%'), 'where.value', /ilike works on text columns/],
  ['like on text[]', leaf('tags', 'like', 'a%'), 'where.value', /like works on text columns/],
  ['like with a number', leaf('title', 'like', 5), 'where.value', /takes a pattern string/],
  ['in on an array column', leaf('tags', 'in', [['a']]), 'where.value', /on the array column "tags" use contains/],
  ['in with one value', leaf('qty', 'in', 1), 'where.value', /in takes an array of values/],
  ['notIn with a bad element', leaf('qty', 'notIn', [1, 'x']), 'where.value[1]', /whole number/],
  ['isNull with text', leaf('qty', 'isNull', 'yes'), 'where.value', /isNull takes true \(IS NULL\) or false/],
  ['contains on an integer', leaf('qty', 'contains', [1]), 'where.value', /contains works on array and json\/jsonb/],
  ['containedBy on text', leaf('title', 'containedBy', 'a'), 'where.value', /containedBy works on array and json/],
  ['contains on an array without a value', leaf('tags', 'contains', null), 'where.value', /contains needs a value/],
  ['contains on an array with a string', leaf('tags', 'contains', 'a'), 'where.value', /takes an array/],
  ['an unknown operator', leaf('qty', 'between', [1, 2]), 'where.op', /unknown operator "between"/],
  ['in a nested and', { and: [leaf('qty', 'eq', 1), leaf('qty', 'eq', 'x')] }, 'where.and[1].value', /whole number/],
  ['in or, not', { or: [{ not: leaf('flag', 'eq', 1) }] }, 'where.or[0].not.value', /true or false/],
  [
    'the first of two',
    { and: [leaf('qty', 'like', 'x'), leaf('nope', 'eq', 1)] },
    'where.and[0].value',
    /like works on text/,
  ],
];

/** [what, condition, field, message pattern]: refused here only (PostgreSQL would fail, or the answer could not be PostgreSQL's). */
const ownRefusals: [string, unknown, string, RegExp][] = [
  ['an unknown column', leaf('nope', 'eq', 1), 'where.column', /no column "nope"/],
  [
    'a nested unknown column',
    { or: [leaf('qty', 'eq', 1), { not: leaf('nope', 'eq', 1) }] },
    'where.or[1].not.column',
    /no column/,
  ],
  ['a column that is not a string', { column: 5, op: 'eq', value: 1 }, 'where.column', /a column name is a string/],
  ['like ending in the escape', leaf('title', 'like', 'ab\\'), 'where.value', /ends with the escape character/],
  ['ilike ending in the escape', leaf('title', 'ilike', '%\\'), 'where.value', /ends with the escape character/],
  ['like on citext', leaf('nick', 'like', 'a%'), 'where.op', /cannot evaluate like on "nick" \(citext\)/],
  ['eq on citext', leaf('nick', 'eq', 'a'), 'where.op', /cannot evaluate eq on "nick"/],
  ['eq on interval', leaf('span', 'eq', '1 day'), 'where.op', /cannot evaluate eq on "span" \(interval\)/],
  ['eq on jsonb[]', leaf('docs', 'eq', [{}]), 'where.op', /cannot evaluate eq on "docs" \(jsonb\[\]\)/],
  ['eq on json', leaf('doc', 'eq', { a: 1 }), 'where.op', /is json, which has no eq in PostgreSQL/],
  ['in on json', leaf('doc', 'in', [{ a: 1 }]), 'where.op', /is json, which has no in/],
  ['text with U+0000', leaf('title', 'eq', 'a\u0000b'), 'where.value', /cannot hold the character U\+0000/],
  ['a pattern with U+0000', leaf('title', 'like', '%\u0000'), 'where.value', /U\+0000/],
  ['an unpaired surrogate', leaf('title', 'eq', 'a\uD800'), 'where.value', /unpaired UTF-16 surrogate/],
  ['jsonb with U+0000 in a key', leaf('meta', 'contains', { 'a\u0000': 1 }), 'where.value', /U\+0000/],
  ['jsonb with an unpaired surrogate', leaf('meta', 'eq', ['\uDC00']), 'where.value', /unpaired/],
  ['text[] element with U+0000', leaf('tags', 'contains', ['ok', '\u0000']), 'where.value[1]', /U\+0000/],
  ['signed NaN for numeric', leaf('price', 'eq', '-NaN'), 'where.value', /is numeric and takes a number; got "-NaN"/],
  ['numeric past its range', leaf('price', 'eq', '1e200000'), 'where.value', /outside numeric's range/],
  ['float8 overflow', leaf('score', 'gt', '1e400'), 'where.value', /out of range for float8/],
  ['float8 underflow', leaf('score', 'gt', '1e-400'), 'where.value', /out of range for float8/],
  ['float4 overflow', leaf('ratio', 'gt', 1e39), 'where.value', /out of range for float4/],
  ['float4 underflow', leaf('ratio', 'gt', 1e-50), 'where.value', /out of range for float4/],
  ['a uuid with one brace', leaf('uid', 'eq', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), 'where.value', /braces/],
  ['timestamptz without offset', leaf('at', 'eq', '2026-01-01T00:00:00'), 'where.value', /needs an explicit offset/],
  ['timestamptz as a date', leaf('at', 'gt', '2026-01-01'), 'where.value', /only ISO 8601 timestamps/],
  ['timestamptz in words', leaf('at', 'gt', 'tomorrow'), 'where.value', /only ISO 8601 timestamps/],
  ['timestamptz as a number', leaf('at', 'gt', 1767225600000), 'where.value', /only ISO 8601/],
  ['no such day', leaf('at', 'gt', '2026-02-29T00:00:00Z'), 'where.value', /no such date/],
  ['year 0', leaf('at', 'gt', '0000-01-01T00:00:00Z'), 'where.value', /no such date/],
  ['hour 24', leaf('at', 'gt', '2026-01-01T24:00:00Z'), 'where.value', /no such time of day/],
  ['7 fractional digits', leaf('at', 'gt', '2026-01-01T00:00:00.1234567Z'), 'where.value', /at most 6 fractional/],
  ['offset past 15:59:59', leaf('at', 'gt', '2026-01-01T00:00:00+16:00'), 'where.value', /offset is out of range/],
  ['timestamp with an offset', leaf('local', 'eq', '2026-01-01T00:00:00Z'), 'where.value', /ignores an offset/],
  ['a date with a time', leaf('day', 'eq', '2026-01-01T00:00:00Z'), 'where.value', /ISO 8601 date/],
  ['a date unpadded', leaf('day', 'eq', '2026-1-1'), 'where.value', /ISO 8601 date/],
  ['timestamptz[] element', leaf('stamps', 'contains', ['2026-01-01']), 'where.value[0]', /ISO 8601/],
  ['ragged 2-D array', leaf('nums', 'eq', [[1, 2], [3]]), 'where.value', /sub-arrays of matching lengths/],
  ['empty sub-arrays', leaf('nums', 'eq', [[], []]), 'where.value', /none empty/],
  ['a value beside sub-arrays', leaf('nums', 'contains', [[1], 2]), 'where.value', /nothing else beside them/],
  ['7 dimensions', leaf('nums', 'eq', [[[[[[[1]]]]]]]), 'where.value', /at most 6 dimensions/],
  ['a bigint value', leaf('qty', 'eq', 5n), 'where.value', /values are JSON/],
  ['undefined in a list', leaf('meta', 'in', [undefined]), 'where.value', /values are JSON/],
  ['a function value', leaf('meta', 'contains', () => 1), 'where.value', /values are JSON/],
  ['a Date value', leaf('at', 'eq', new Date()), 'where.value', /values are JSON/],
  ['and with nothing', { and: [] }, 'where.and', /and takes a list of 1 to 64 conditions/],
  ['or with 65', { or: Array.from({ length: 65 }, () => leaf('qty', 'eq', 1)) }, 'where.or', /1 to 64/],
  ['and not a list', { and: leaf('qty', 'eq', 1) }, 'where.and', /takes a list/],
  ['null', null, 'where', /a condition is/],
  ['a string', 'qty = 1', 'where', /a condition is/],
  ['a list', [leaf('qty', 'eq', 1)], 'where', /a condition is/],
  ['an empty object', {}, 'where', /a condition is/],
  ['an unknown combinator', { xor: [leaf('qty', 'eq', 1)] }, 'where', /a condition is/],
  ['a nested non-object', { not: 5 }, 'where.not', /a condition is/],
];

describe('compileRowFilter refuses', () => {
  it.each(sharedRefusals)('%s, as the query compiler does', (_, where, field, message) => {
    const error = refusal(where);
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.details?.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    const compilers = compilerRefusal(where);
    expect({ message: error.message, field: error.details?.field }).toEqual({
      message: compilers.message,
      field: compilers.details?.field,
    });
  });

  it.each(ownRefusals)('%s', (_, where, field, message) => {
    const error = refusal(where);
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.details?.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('conditions nested past 32, with the path of the one too deep', () => {
    let where: unknown = leaf('qty', 'eq', 1);
    for (let i = 0; i < 33; i++) where = { not: where };
    const error = refusal(where);
    expect(error.details?.field).toBe(`where${'.not'.repeat(33)}`);
    expect(error.message).toMatch(/nest at most 32 deep/);
    expect(compilerRefusal(where).details?.field).toBe(error.details?.field);
    let fine: unknown = leaf('qty', 'eq', 1);
    for (let i = 0; i < 32; i++) fine = { not: fine };
    expect(compile(fine)({ qty: 1 })).toBe(true);
  });

  it('a shared subtree that would be evaluated billions of times', () => {
    // JSON cannot share, code can: 2 branches sharing one child, 30 deep, is 2^30 leaves.
    let where: Condition = leaf('qty', 'eq', 1);
    for (let i = 0; i < 30; i++) where = { or: [where, where] };
    expect(refusal(where).message).toMatch(/at most 10000 conditions/);
  });

  it('a cyclic value, without overflowing the stack', () => {
    const value: Record<string, unknown> = { a: 1 };
    value.self = value;
    expect(refusal(leaf('meta', 'contains', value)).message).toMatch(/values are JSON/);
  });

  it('a cyclic condition, at the depth limit', () => {
    const where: { and: unknown[] } = { and: [] };
    where.and.push(where);
    expect(refusal(where).message).toMatch(/nest at most 32 deep/);
  });
});

describe('compileRowFilter on hostile rows', () => {
  const filter = compile({ or: [leaf('qty', 'isNull', true), leaf('title', 'like', '%')] });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', '{"qty":null}'],
    ['an array', [{ qty: null }]],
    ['a Date', new Date()],
    ['a number', 5],
  ])('answers false for %s', (_, row) => {
    expect(filter(row)).toBe(false);
  });

  it.each<[string, Condition, Record<string, unknown>]>([
    ['an object for an integer', leaf('qty', 'eq', 1), { qty: { valueOf: 1 } }],
    ['an array for text', leaf('title', 'eq', 'a'), { title: ['a'] }],
    ['a number for text in like', leaf('title', 'like', '%'), { title: 5 }],
    ['garbage for a timestamp', leaf('at', 'lt', '2026-01-01T00:00:00Z'), { at: 'soon' }],
    ['an impossible date', leaf('day', 'lt', '2026-01-01'), { day: '2025-02-30' }],
    ['a string for an array', leaf('tags', 'contains', ['a']), { tags: 'a' }],
    ['a bad element in an array', leaf('nums', 'containedBy', [1]), { nums: [1, 'x'] }],
    ['undefined inside jsonb', leaf('meta', 'contains', { a: 1 }), { meta: { a: 1, b: undefined } }],
    ['Infinity inside jsonb', leaf('meta', 'eq', { a: 1 }), { meta: { a: Number.POSITIVE_INFINITY } }],
    ['a bad uuid', leaf('uid', 'in', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']), { uid: 'zzz' }],
    ['a number for a boolean', leaf('flag', 'eq', true), { flag: 1 }],
  ])('a wrong type in the row is unknown: %s', (_, where, row) => {
    expect(truth(where, row)).toBe(null);
  });

  it('reads only the row’s own properties', () => {
    const row = Object.create({ qty: 1, title: 'inherited' }) as Record<string, unknown>;
    expect(truth(leaf('qty', 'eq', 1), row)).toBe(null);
    expect(truth(leaf('constructor', 'isNull', false), {})).toBe(null);
  });

  it('a row object with a null prototype is a row', () => {
    const row = Object.assign(Object.create(null) as Record<string, unknown>, { qty: 1 });
    expect(compile(leaf('qty', 'eq', 1))(row)).toBe(true);
  });
});

// -------------------------------------------------------------------------------------------
// The property: in memory and in PostgreSQL, the same rows.

const tableSql = (textCollation: string) => `
DO $$
BEGIN
  CREATE TYPE public.rf_mood AS ENUM ('happy', 'calm', 'sad');
EXCEPTION WHEN duplicate_object THEN
  NULL;
END
$$;
CREATE TABLE IF NOT EXISTS public.rf_rows (
  id integer PRIMARY KEY,
  i integer,
  b bigint,
  n numeric,
  f float8,
  t text ${textCollation},
  c char(3) ${textCollation},
  ok boolean,
  ts timestamptz,
  lt timestamp,
  d date,
  u uuid,
  m public.rf_mood,
  j jsonb,
  ia integer[],
  ta text[] ${textCollation}
);`;

/** Values for one column: those rows hold, and those conditions compare with (PostgreSQL reads both the same). */
interface Pool {
  readonly rows: readonly unknown[];
  readonly values: readonly unknown[];
  /** Operators beyond comparison, in and isNull. */
  readonly extra?: readonly ('like' | 'contains')[];
  /** No in/notIn (array columns). */
  readonly array?: boolean;
}

const likeBits = ['a', 'A', 'b', 'é', 'É', 'ä', 'Ä', '😀', ' ', '%', '%', '_', '\\%', '\\_', '\\\\', '\\a'];
const texts = [
  '',
  'a',
  'A',
  'ab',
  'aB',
  'b',
  'B',
  'a%b',
  'a_b',
  'a\\b',
  'é',
  'É',
  'ä',
  'Ä',
  '😀',
  '\uE000',
  ' a',
  'a ',
];
const instants = [
  '2026-01-01T00:00:00Z',
  '2026-01-01T01:00:00+01:00',
  '2026-01-01T00:00:00.000001Z',
  '2025-12-31T23:59:59.999999Z',
  '2026-06-15T12:30:00+05:30',
  '2026-06-15T07:00:00Z',
  '1999-12-31T23:59:59-08:00',
  'infinity',
  '-infinity',
];
const uuids = [
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '00000000-0000-0000-0000-000000000000',
];
const jsons: unknown[] = [
  {},
  { a: 1 },
  { a: 1, b: 2 },
  { a: { b: 1 } },
  { a: [1, 2] },
  { a: null },
  { b: 'x' },
  { bb: 1 },
  { c: 1 },
  [],
  [1],
  [1, 2],
  [2, 1],
  [[1, 2]],
  [{ a: 1 }],
  [null],
  1,
  2.5,
  -1,
  'x',
  '1',
  'é',
  true,
  false,
];

const pools: Record<string, Pool> = {
  i: { rows: [-2, -1, 0, 1, 2, 3, 2147483647, -2147483648], values: [-1, 0, 1, 2, '3', 2147483647] },
  b: {
    rows: [0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 - 2, 4294967296],
    values: [0, 1, '-1', 2 ** 53 - 1, '9007199254740992', 4294967296],
  },
  n: {
    rows: ['0', '1', '1.0', '1.50', '-0.5', '2.25', '0.1', '0.10', '100', '1e2', 'NaN', 'Infinity', '-Infinity'],
    values: [0, 1, 1.5, 0.1, -0.5, '1.00', '0.1000000000000000001', '99.999', '1e2', 'NaN', 'Infinity', '-Infinity'],
  },
  f: {
    rows: [0, 0.1, 1.5, -2, 1e300, 'NaN', 'Infinity', '-Infinity', 5e-324],
    values: [0, '-0', 0.1, 1.5, -2, 1e300, 'NaN', '-Infinity', 5e-324],
  },
  t: { rows: texts, values: [...texts, 'abc', '\uFFFF'], extra: ['like'] },
  c: { rows: ['a', 'ab', 'abc', '', ' a', 'A'], values: ['a', 'a ', 'ab', 'abc', 'abcd', '', 'A'], extra: ['like'] },
  ok: { rows: [true, false], values: [true, false] },
  ts: { rows: [...instants, '0044-03-15 00:00:00+00 BC'], values: instants },
  lt: {
    rows: ['2026-01-01T00:00:00', '2026-01-01T00:00:00.5', '2025-12-31T23:59:59.999999', 'infinity', '-infinity'],
    values: ['2026-01-01T00:00:00', '2026-01-01 00:00:00.500', '2025-12-31T23:59:59.999999', 'infinity'],
  },
  d: {
    rows: ['2026-01-01', '2025-12-31', '2000-02-29', '0001-01-01', 'infinity', '-infinity', '0044-03-15 BC'],
    values: ['2026-01-01', '2025-12-31', '2000-02-29', '0001-01-01', 'infinity', '-infinity'],
  },
  u: { rows: uuids, values: [...uuids, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{b0eebc999c0b4ef8bb6d6bb9bd380a11}'] },
  m: { rows: ['happy', 'calm', 'sad'], values: ['happy', 'calm', 'sad'] },
  j: { rows: jsons, values: jsons, extra: ['contains'] },
  ia: {
    rows: [
      [],
      [1],
      [1, 2],
      [2, 1],
      [1, null],
      [null],
      [1, 2, 3],
      [3],
      [
        [1, 2],
        [3, 4],
      ],
      [[1], [2]],
    ],
    values: [
      [],
      [1],
      [2, 1],
      [1, 2],
      [1, null],
      [null],
      [1, 2, 3],
      [4, 3],
      [
        [1, 2],
        [3, 4],
      ],
    ],
    extra: ['contains'],
    array: true,
  },
  ta: {
    rows: [[], ['a'], ['a', 'b'], ['b', 'a'], ['a', null], ['A'], ['😀', '\uE000'], ['a ']],
    values: [[], ['a'], ['b', 'a'], ['a', null], ['\uE000'], ['😀'], ['a', 'b', 'c']],
    extra: ['contains'],
    array: true,
  },
};

/**
 * Random rows in which every column takes every value of its pool (and NULL) at least once: each
 * column's values in a random order of their own, so a leaf meets all of them in every run while
 * the combinations across columns, which and/or/not depend on, stay random.
 */
const rowsArbitrary = (names: readonly string[]) =>
  fc
    .record(
      Object.fromEntries(
        names.map((name) => {
          const values = [...(pools[name] as Pool).rows, null];
          return [name, fc.shuffledSubarray(values, { minLength: values.length, maxLength: values.length })];
        }),
      ) as Record<string, fc.Arbitrary<unknown[]>>,
    )
    .map((byColumn) => {
      const count = Math.max(...Object.values(byColumn).map((values) => values.length));
      return Array.from({ length: count }, (_, i) =>
        Object.fromEntries(Object.entries(byColumn).map(([name, values]) => [name, values[i % values.length]])),
      );
    });

const flipCase = (char: string) => (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase());

/**
 * LIKE patterns: mostly made from a text of the pools, each character kept, escaped, case-flipped
 * or turned into `_`, with `%` here and there, so that many of them match some rows; random bits
 * for the rest.
 */
const patternArbitrary = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...texts, 'abc', 'a\\%_b'), fc.array(fc.nat(9), { minLength: 6, maxLength: 6 }), fc.nat(3))
      .map(([text, choices, ends]) => {
        let pattern = ends & 1 ? '%' : '';
        Array.from(text).forEach((char, i) => {
          const literal = '%_\\'.includes(char) ? `\\${char}` : char;
          const choice = choices[i % choices.length] as number;
          pattern +=
            choice === 0
              ? '_'
              : choice === 1
                ? `%${literal}`
                : choice === 2
                  ? flipCase(char).replace(/[%_\\]/g, '\\$&')
                  : choice === 3
                    ? `\\${char}`
                    : literal;
        });
        return pattern + (ends & 2 ? '%' : '');
      }),
  },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...likeBits), { maxLength: 4 }).map((bits) => bits.join('')) },
);

function leafArbitrary(name: string): fc.Arbitrary<Condition> {
  const pool = pools[name] as Pool;
  const value = fc.constantFrom(...pool.values);
  const ops: fc.Arbitrary<Condition>[] = [
    fc.record({
      column: fc.constant(name),
      op: fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte'),
      value,
    }) as fc.Arbitrary<Condition>,
    fc.record(
      { column: fc.constant(name), op: fc.constant('isNull'), value: fc.boolean() },
      { requiredKeys: ['column', 'op'] },
    ) as fc.Arbitrary<Condition>,
  ];
  if (!pool.array) {
    ops.push(
      fc.record({
        column: fc.constant(name),
        op: fc.constantFrom('in', 'notIn'),
        value: fc.array(fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) }), {
          maxLength: 3,
        }),
      }) as fc.Arbitrary<Condition>,
    );
  }
  if (pool.extra?.includes('like')) {
    ops.push(
      fc.record({
        column: fc.constant(name),
        op: fc.constantFrom('like', 'ilike'),
        value: patternArbitrary,
      }) as fc.Arbitrary<Condition>,
    );
  }
  if (pool.extra?.includes('contains')) {
    ops.push(
      fc.record({
        column: fc.constant(name),
        op: fc.constantFrom('contains', 'containedBy'),
        value,
      }) as fc.Arbitrary<Condition>,
    );
  }
  return fc.oneof(...ops);
}

function conditionArbitrary(names: readonly string[]): fc.Arbitrary<Condition> {
  const leaves = fc.oneof(...names.map(leafArbitrary));
  return fc.letrec<{ condition: Condition }>((tie) => ({
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true, maxDepth: 4 },
      leaves,
      fc.record({ and: fc.array(tie('condition'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ or: fc.array(tie('condition'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ not: tie('condition') }),
    ),
  })).condition;
}

/** One embedded database with the table, and the check the property runs. */
function useTable(textCollation: string) {
  let database: Database;
  let table: TableInfo;
  const options = { maxRows: 1000, cursors };
  beforeAll(async () => {
    database = await openDatabase('memory', {
      appSchema: [{ name: '001-row-filter.sql', sql: tableSql(textCollation) }],
    });
    const found = (await introspectSchema(database, ['public'])).find('public', 'rf_rows');
    if (!found) throw new Error('rf_rows was not created');
    table = found;
  });
  afterAll(async () => {
    await database?.close();
  });

  /** The rows as to_jsonb gives them, and the ids PostgreSQL selects for each condition and for its negation. */
  async function inPostgres(rows: readonly Record<string, unknown>[], conditions: readonly Condition[]) {
    return database.transaction(async (tx) => {
      await tx.query(`SET LOCAL ROLE ${ownerRole}`);
      await tx.query('DELETE FROM public.rf_rows');
      const values = rows.map((row, id) => ({ id, ...row }));
      const insert = compileQuery({ table: 'rf_rows', op: 'insert', values }, table, options).statement;
      await tx.run(insert.text, insert.params);
      const stored = await tx.query<{ id: number; row: string }>(
        'SELECT id, to_jsonb(r)::text AS row FROM public.rf_rows r ORDER BY id',
      );
      const select = async (condition: Condition) => {
        const query = compileQuery(
          { table: 'rf_rows', op: 'select', columns: ['id'], where: condition },
          table,
          options,
        );
        const result = await tx.run(query.statement.text, query.statement.params);
        return result.rows.map((row) => row.id as number).sort((a, b) => a - b);
      };
      const answers: { matched: number[]; unmatched: number[] }[] = [];
      for (const where of conditions)
        answers.push({ matched: await select(where), unmatched: await select({ not: where }) });
      return {
        stored: stored.map((row) => ({ id: row.id, row: JSON.parse(row.row) as Record<string, unknown> })),
        answers,
      };
    });
  }

  /** The property: for random rows and random conditions, the filter and PostgreSQL pick the same rows. */
  async function check(names: readonly string[], filterOptions: RowFilterOptions, numRuns: number, seed: number) {
    const tally = { tests: 0, matched: 0, unmatched: 0, unknown: 0 };
    const conditions = fc.array(conditionArbitrary(names), { minLength: 1, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(rowsArbitrary(names), conditions, async (rows, wheres) => {
        const sql = await inPostgres(rows, wheres);
        wheres.forEach((where, i) => {
          const matches = compileRowFilter(where, (name) => table.column.get(name), 'where', filterOptions);
          const negated = compileRowFilter({ not: where }, (name) => table.column.get(name), 'where', filterOptions);
          const inMemory = {
            matched: sql.stored.filter((entry) => matches(entry.row)).map((entry) => entry.id),
            unmatched: sql.stored.filter((entry) => negated(entry.row)).map((entry) => entry.id),
          };
          const answer = sql.answers[i] as { matched: number[]; unmatched: number[] };
          expect(inMemory, JSON.stringify(where)).toEqual(answer);
          tally.tests += sql.stored.length;
          tally.matched += answer.matched.length;
          tally.unmatched += answer.unmatched.length;
          tally.unknown += sql.stored.length - answer.matched.length - answer.unmatched.length;
        });
      }),
      { numRuns, seed },
    );
    // Each outcome turned up often enough to mean something.
    expect(tally.matched).toBeGreaterThan(tally.tests / 20);
    expect(tally.unmatched).toBeGreaterThan(tally.tests / 20);
    expect(tally.unknown).toBeGreaterThan(tally.tests / 50);
    console.info(
      `row filter vs PGlite (${textCollation || 'default collation'}): ${numRuns} runs, row × condition tests ${JSON.stringify(tally)}`,
    );
  }
  return { check };
}

describe('compileRowFilter agrees with PostgreSQL (PGlite), text in COLLATE "C"', () => {
  const table = useTable('COLLATE "C"');
  it('300 runs: random rows over 16 column kinds, 1–3 random conditions each', async () => {
    await table.check(Object.keys(pools), { ilikeCase: 'ascii' }, 300, 20261202);
  }, 240_000);
});

describe('compileRowFilter agrees with PostgreSQL (PGlite), text in the default collation', () => {
  // PGlite's default: C order, C.UTF-8 ctype, so lower() maps beyond ASCII.
  const table = useTable('');
  it('100 runs: random rows of text columns, 1–3 random conditions each', async () => {
    await table.check(['t', 'c', 'ta'], { ilikeCase: 'unicode' }, 100, 4242);
  }, 240_000);
});
