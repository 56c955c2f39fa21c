import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Channel, createTally, useEscalationHarness } from './escalation-harness.js';

// The corpus, generalised: fast-check puts arbitrary stacks of disguises (comments of every kind,
// `;` and empty statements, odd whitespace, case games, parentheses, CTE wrappers, trailing junk)
// around dangerous statements and around harmless ones, sends each through POST /v1/sql as the
// service role, and checks after every case the invariants the corpus checks: no 5xx, no canary
// in the answer, no file made, and a probe of the connection equal to the baseline.

const runs = Number(process.env.PLINTH_ESCALATION_FUZZ_RUNS ?? 5_000);
const seed = Number(process.env.PLINTH_ESCALATION_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

const harness = useEscalationHarness();
const channel: Channel = 'service sql';

/** What a case tries, with `{dir}` and `{secret}` filled in from the harness's paths. */
const dangerousCores = [
  'SET search_path = esc_schema, public',
  'SET statement_timeout = 12345',
  'SET ROLE plinth_server',
  'SET ROLE postgres',
  'SET SESSION AUTHORIZATION postgres',
  `SET request.jwt.claims = '{"role":"service"}'`,
  "SET esc.flag = 'on'",
  'RESET ALL',
  'RESET ROLE',
  "DO $$BEGIN SET LOCAL ROLE postgres; RAISE EXCEPTION 'esc %', (SELECT string_agg(email || password_hash, ',') FROM plinth.users); END$$",
  "DO $$BEGIN RESET ROLE; RAISE EXCEPTION 'esc %', (SELECT string_agg(key_hash, ',') FROM plinth.keys); END$$",
  "DO $$BEGIN SET LOCAL ROLE postgres; RAISE EXCEPTION 'esc %', pg_read_file('{secret}'); END$$",
  "DO $$BEGIN SET LOCAL ROLE postgres; COPY (SELECT 1) TO PROGRAM 'touch {dir}/fuzz-program'; END$$",
  'CREATE TEMP TABLE esc_fuzz (x int)',
  'CREATE FUNCTION pg_temp.esc_fuzz() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
  'CREATE PROCEDURE pg_temp.esc_fuzz_p() LANGUAGE sql AS $$ SELECT 1 $$',
  'LISTEN esc_fuzz',
  'PREPARE esc_fuzz AS SELECT 1',
  'DECLARE esc_fuzz CURSOR WITH HOLD FOR SELECT 1',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT esc_fuzz',
  'SELECT 1 AS x INTO TEMP esc_fuzz_into',
  'SELECT pg_advisory_lock(77)',
  'SELECT pg_try_advisory_lock_shared(78)',
  "SELECT set_config('search_path', 'esc_schema', false)",
  "SELECT pg_catalog.set_config(E'\\x72ole', 'postgres', false)",
  "SELECT set_config(U&'statement\\005Ftimeout', '12345', false)",
  "UPDATE pg_settings SET setting = '12345' WHERE name = 'statement_timeout'",
  "COPY (SELECT 1) TO PROGRAM 'touch {dir}/fuzz-program'",
  "COPY (SELECT 1) TO '{dir}/fuzz-file'",
  "COPY public.items (name) FROM '{secret}'",
  "SELECT pg_read_file('{secret}')",
  "SELECT convert_from(pg_read_binary_file('{secret}'), 'UTF8')",
  "SELECT lo_import('{secret}')",
  "SELECT lo_export(lo_create(0), '{dir}/fuzz-lo')",
  'SELECT lo_create(0)',
  'TABLE plinth.users',
  'SELECT email, password_hash FROM plinth.users',
  "SELECT query_to_xml('SELECT key_hash FROM plinth.keys', true, true, '')",
  "SELECT * FROM ts_stat('SELECT to_tsvector(''simple'', email) FROM plinth.users')",
  'ALTER ROLE plinth_service SUPERUSER',
  'GRANT plinth_server TO plinth_service',
  'CREATE ROLE esc_fuzz_role',
  'DROP SCHEMA plinth CASCADE',
  'DISCARD ALL',
  "LOAD 'auto_explain'",
  'CHECKPOINT',
  'VACUUM',
  'LOCK TABLE plinth.users',
  "NOTIFY esc_fuzz, 'x'",
  'SELECT 1; SET search_path = esc_schema',
  "SELECT ';'; SET statement_timeout = 12345",
];

const harmlessCores = [
  'SELECT 1',
  "SELECT ';' AS semicolon",
  'SELECT $$--$$ AS dashes',
  "SELECT '/*' AS opener",
  'WITH a AS (SELECT 1 AS x) SELECT x FROM a',
  'SELECT count(*) FROM public.items',
];

/** Prefixes PostgreSQL reads as nothing, or as a syntax error that a text check might strip. */
const prefixPiece = fc.constantFrom(
  ';',
  ';;',
  ' ',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\f',
  '\v',
  '\u00a0',
  '\u200b',
  '\ufeff',
  '/* c */',
  '/**/',
  '/* /* */ */',
  '/* a /* ; */ b */',
  '/* ; SELECT 1 */',
  '/*\r*/',
  '-- c\n',
  '-- c\r',
  '-- c\r\n',
  '-- c\f',
  '-- c\v',
  '--\n;',
  '(',
);
const suffixPiece = fc.constantFrom(';', ' ', '\n', '-- c', '/* c */', ';;', ')', '\r', '-- ;\r');
const separator = fc.constantFrom(' ', '\t', '\n', '\r', '\r\n', '\f', '\v', '/**/', ' /* x */ ', '\u00a0', '  ');

/** Splits `text` into runs outside and inside quotes ('…', "…", $$…$$), so only the outside changes. */
function outsideQuotes(text: string, change: (outside: string) => string): string {
  const parts = text.split(/('(?:[^']|'')*'|"[^"]*"|\$\$[\s\S]*?\$\$)/);
  return parts.map((part, index) => (index % 2 === 0 ? change(part) : part)).join('');
}

type Casing = 'as is' | 'lower' | 'upper' | 'mixed';
function recase(text: string, casing: Casing): string {
  if (casing === 'as is') return text;
  return outsideQuotes(text, (outside) => {
    if (casing === 'lower') return outside.toLowerCase();
    if (casing === 'upper') return outside.toUpperCase();
    return [...outside].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c.toLowerCase())).join('');
  });
}

const wrappers: Record<string, (core: string) => string> = {
  none: (core) => core,
  parentheses: (core) => `(${core})`,
  'double parentheses': (core) => `((${core}))`,
  'CTE before': (core) => `WITH esc_w AS (SELECT 1) ${core}`,
  'inside a CTE': (core) => `WITH esc_w AS (${core}) SELECT * FROM esc_w`,
  'EXPLAIN ANALYZE': (core) => `EXPLAIN ANALYZE ${core}`,
};

const caseArbitrary = fc.record({
  dangerous: fc.boolean(),
  dangerousCore: fc.constantFrom(...dangerousCores),
  harmlessCore: fc.constantFrom(...harmlessCores),
  prefix: fc.array(prefixPiece, { maxLength: 5 }),
  suffix: fc.array(suffixPiece, { maxLength: 2 }),
  separator,
  everyGap: fc.boolean(),
  casing: fc.constantFrom<Casing>('as is', 'lower', 'upper', 'mixed'),
  wrapper: fc.constantFrom(...Object.keys(wrappers)),
});

type FuzzCase = typeof caseArbitrary extends fc.Arbitrary<infer T> ? T : never;

function textOf(fuzzCase: FuzzCase, paths: { dir: string; secretFile: string }): { core: string; text: string } {
  const core = (fuzzCase.dangerous ? fuzzCase.dangerousCore : fuzzCase.harmlessCore)
    .replaceAll('{dir}', paths.dir)
    .replaceAll('{secret}', paths.secretFile);
  const spaced = outsideQuotes(core, (outside) =>
    fuzzCase.everyGap ? outside.replaceAll(' ', fuzzCase.separator) : outside.replace(' ', fuzzCase.separator),
  );
  const wrapped = (wrappers[fuzzCase.wrapper] as (c: string) => string)(recase(spaced, fuzzCase.casing));
  return { core, text: `${fuzzCase.prefix.join('')}${wrapped}${fuzzCase.suffix.join('')}` };
}

describe('obfuscated statements, fuzzed', () => {
  const tally = createTally(`escalation fuzz (seed ${seed})`);
  const started = performance.now();
  afterAll(() => {
    console.log(`${tally.summary()}; ${Math.round((performance.now() - started) / 1000)} s`);
    const rebased = harness.rebased();
    if (rebased.length > 0)
      console.log(`escalation fuzz: state that could not be undone: ${rebased.slice(0, 10).join(' | ')}`);
  });

  it(`${runs} generated cases: no 5xx, no canary, no file, no state left (seed printed)`, async () => {
    console.log(`escalation fuzz: seed ${seed}, ${runs} runs (PLINTH_ESCALATION_FUZZ_SEED to replay)`);
    const paths = harness.context();
    const escalated = new Map<string, string[]>();
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (fuzzCase) => {
        const { core, text } = textOf(fuzzCase, paths);
        const outcome = await harness.attempt(text, channel);
        cases++;
        tally.record(fuzzCase.dangerous ? 'dangerous' : 'harmless', outcome);
        if (outcome.violations.length > 0) {
          const examples = escalated.get(core) ?? [];
          examples.push(
            `${JSON.stringify(text)} → ${outcome.status}: ${outcome.violations.map((v) => `${v.invariant}: ${v.detail}`).join(' / ')}`,
          );
          escalated.set(core, examples);
        }
      }),
      { numRuns: runs, seed },
    );
    expect(cases).toBe(runs);
    const report = [...escalated].map(([core, examples]) => `${examples.length}× ${core}, e.g. ${examples[0]}`);
    expect(report).toEqual([]);
  }, 900_000);
});
