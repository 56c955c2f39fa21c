import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../../src/cli.js';
import { generateTypes } from '../../src/typegen/generate-types.js';
import { schemaFixture } from './schema-fixture.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const scratch = join(root, 'packages', 'server', 'test', 'typegen', '.scratch');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Type-checks `files` (name → source) in a scratch folder inside the repo, as the repo's tsconfig does. */
function typecheck(files: Record<string, string>): string[] {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'check-'));
  try {
    for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
    const program = ts.createProgram(
      Object.keys(files).map((name) => join(dir, name)),
      {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: [],
        baseUrl: root,
        paths: { '@plinth/*': ['packages/*/src/index.ts'] },
      },
    );
    return ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file?.fileName.startsWith(dir))
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const usage = `
import type { QueryClient } from '@plinth/query';
import type { Database, Json } from './database.types';

declare const db: QueryClient<Database>;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const check = <T extends true>(): T | undefined => undefined;

export async function use() {
  const rows = await db.from('posts').select('id, status, tags, published_at').where({ status: { in: ['draft', 'live'] } });
  check<Equal<typeof rows, { id: string; status: 'draft' | 'live' | 'deleted'; tags: string[]; published_at: string | null }[]>>();
  const setting = await db.from('app.settings').select('value').single();
  check<Equal<typeof setting, { value: Json }>>();
  const odd = await db.from('odd names').select().single();
  check<Equal<typeof odd, { select: number | string; 'two words': string | null; flags: boolean[]; moods: ('happy' | "it's")[] | null }>>();
  await db.from('posts').insert({ author_id: 'a', title: 't' });
  await db.from('posts').update({ views: 1 }).where({ id: 'x' });
  check<Equal<Database['public']['Enums']['post_status'], 'draft' | 'live' | 'deleted'>>();
  // @ts-expect-error no such column
  db.from('posts').select('id, nope');
  // @ts-expect-error title is required on insert
  db.from('posts').insert({ author_id: 'a' });
  // @ts-expect-error a view takes no insert
  db.from('live_posts').insert({ id: 'x', title: 't' });
  // @ts-expect-error status is an enum
  db.from('posts').select().where({ status: 'archived' });
  // @ts-expect-error settings lives in the app schema
  db.from('settings');
}
`;

describe('generateTypes', () => {
  const source = generateTypes(schemaFixture);

  it('writes Row, Insert and Update per table, Row per view, and Enums, per schema', () => {
    expect(source).toContain('export type Database = {');
    expect(source).toContain('export type Json =');
    expect(source).toMatch(/ {2}app: \{\n {4}Tables: \{\n {6}settings: \{/);
    expect(source).toContain(
      '        Row: {\n          id: string;\n          author_id: string;\n          title: string;\n          status: "draft" | "live" | "deleted";',
    );
    expect(source).toContain('          id?: string;\n          author_id: string;');
    expect(source).toContain('          published_at?: string | null;');
    expect(source).toContain('          tags: string[];');
    expect(source).toContain('          meta: Json;');
    expect(source).toContain('    Views: {\n      live_posts: {\n        Row: {');
    expect(source).toContain('      post_status: "draft" | "live" | "deleted";');
    expect(source).toContain('    Views: { [_ in never]: never };');
    expect(source).toContain('          "two words": string | null;');
    expect(source).toContain('          moods: ("happy" | "it\'s")[] | null;');
  });

  it('is deterministic: same schema, same text, whatever the order tables come in', () => {
    const shuffled = { tables: [...schemaFixture.tables].reverse() };
    expect(generateTypes(shuffled)).toBe(source);
  });

  it('always has a public schema, so an empty database still types', () => {
    expect(generateTypes({ tables: [] })).toContain(
      '  public: {\n    Tables: { [_ in never]: never };\n    Views: { [_ in never]: never };\n    Enums: { [_ in never]: never };\n  };',
    );
  });

  it('typechecks, and a usage against it is checked column by column', () => {
    expect(typecheck({ 'database.types.ts': source, 'usage.ts': usage })).toEqual([]);
  }, 60_000);

  it('makes a wrong column a compile error', () => {
    const errors = typecheck({
      'database.types.ts': source,
      'wrong.ts': `import type { QueryClient } from '@plinth/query';\nimport type { Database } from './database.types';\ndeclare const db: QueryClient<Database>;\ndb.from('posts').select('id, nope');\n`,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('\'unknown column\': "nope"');
  }, 60_000);
});

describe('plinth gen types', () => {
  let server: Server;
  let url: string;
  const seen: { authorization: string | undefined; path: string | undefined }[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ authorization: request.headers.authorization, path: request.url });
      const ok = request.headers.authorization === 'Bearer sk_test_key' && request.url === '/v1/schema';
      response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(ok ? schemaFixture : { error: { code: 'unauthenticated', message: 'No key.', requestId: 'r' } }),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  function io(env: Record<string, string | undefined> = {}) {
    mkdirSync(scratch, { recursive: true });
    const cwd = mkdtempSync(join(scratch, 'cli-'));
    const out: string[] = [];
    const err: string[] = [];
    const cli: CliIo = {
      stdout: (line) => out.push(line),
      stderr: (line) => err.push(line),
      env,
      cwd,
      stopSignal: new Promise(() => {}),
    };
    return { cli, out, err, cwd, done: () => rmSync(cwd, { recursive: true, force: true }) };
  }

  it('fetches GET /v1/schema with the service key and writes --out', async () => {
    const run = io();
    try {
      expect(
        await runCli(['gen', 'types', '--url', url, '--service-key', 'sk_test_key', '--out', 'db.types.ts'], run.cli),
      ).toBe(0);
      expect(readFileSync(join(run.cwd, 'db.types.ts'), 'utf8')).toBe(generateTypes(schemaFixture));
      expect(run.out[0]).toMatch(/^Wrote the Database type \(4 tables and views\) to .*db\.types\.ts\.$/);
      expect(seen.at(-1)).toEqual({ authorization: 'Bearer sk_test_key', path: '/v1/schema' });
    } finally {
      run.done();
    }
  });

  it('reads the URL and key from PLINTH_URL and PLINTH_SERVICE_KEY, and prints without --out', async () => {
    const run = io({ PLINTH_URL: `${url}/`, PLINTH_SERVICE_KEY: 'sk_test_key' });
    try {
      expect(await runCli(['gen', 'types'], run.cli)).toBe(0);
      expect(run.out.join('\n')).toBe(generateTypes(schemaFixture));
    } finally {
      run.done();
    }
  });

  it('fails clearly without a key, with a refused key, and with no server', async () => {
    const none = io();
    expect(await runCli(['gen', 'types', '--url', url], none.cli)).toBe(2);
    expect(none.err[0]).toMatch(/needs the service key/);
    none.done();
    const wrong = io();
    expect(await runCli(['gen', 'types', '--url', url, '--service-key', 'sk_wrong'], wrong.cli)).toBe(1);
    expect(wrong.err[0]).toMatch(/answered 401: No key\./);
    wrong.done();
    const down = io();
    expect(await runCli(['gen', 'types', '--url', 'http://127.0.0.1:9', '--service-key', 'sk_x'], down.cli)).toBe(1);
    expect(down.err[0]).toMatch(/could not reach/);
    down.done();
  });
});
