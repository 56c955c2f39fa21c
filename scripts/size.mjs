// Bundle-size budgets: bundles each entry of size-budgets.json the way an app would (esbuild,
// minified, browser, ESM, tree-shaken through `sideEffects: false`), gzips it at level 9 and
// compares the gzip size with the entry's `limit` in bytes (`null`: print it, don't enforce).
//
// The first word of an entry's `name` is the package it measures: the import is resolved from
// that package's own directory, so the name self-resolves through its exports map to the built
// dist/ (run `pnpm build` first). `--json` prints the results as JSON. Exits 1 if any is over.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const budgets = JSON.parse(readFileSync(join(root, 'size-budgets.json'), 'utf8'));

const packageDirs = new Map();
for (const dir of readdirSync(join(root, 'packages'))) {
  try {
    const { name } = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    packageDirs.set(name, join(root, 'packages', dir));
  } catch {
    // not a package
  }
}

async function measure({ name, import: source, limit }) {
  const pkg = name.split(' ')[0];
  const resolveDir = packageDirs.get(pkg);
  if (!resolveDir) throw new Error(`size-budgets.json: "${name}" does not start with a package in packages/`);
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'js', sourcefile: 'budget-entry.js' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const gzip = gzipSync(code, { level: 9 }).length;
  const ok = limit === null || gzip <= limit;
  return { name, minified: code.length, gzip, limit, ok };
}

let results;
try {
  results = await Promise.all(budgets.map(measure));
  // An entry with `minus` measures what its import adds to another entry's bundle: its gzip size
  // less that entry's (the budget of code an app pays for on top of what it already has).
  for (const [i, { minus }] of budgets.entries()) {
    if (minus === undefined) continue;
    const base = results.find((r) => r.name === minus);
    if (!base) throw new Error(`size-budgets.json: "${budgets[i].name}" subtracts "${minus}", which is not an entry`);
    const r = results[i];
    Object.assign(r, { minified: r.minified - base.minified, gzip: r.gzip - base.gzip });
    r.ok = r.limit === null || r.gzip <= r.limit;
  }
} catch (error) {
  const detail = error.errors?.map((e) => e.text).join('\n') ?? error.message;
  console.error(`size: could not bundle (have you run \`pnpm build\`?)\n${detail}`);
  process.exit(1);
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const rows = [
    ['name', 'minified', 'gzip', 'limit', 'status'],
    ...results.map((r) => [
      r.name,
      String(r.minified),
      String(r.gzip),
      r.limit === null ? '-' : String(r.limit),
      r.limit === null ? 'info' : r.ok ? 'ok' : 'OVER',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) {
    console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  }
  console.log(
    '(bytes; gzip is level 9; "info" entries have no limit; "added to" entries are a difference of two bundles)',
  );
}

process.exit(results.every((r) => r.ok) ? 0 : 1);
