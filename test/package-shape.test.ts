/**
 * The built packages, loaded the way a consumer loads them: a plain Node process (no vitest
 * aliases) `import`s and `require`s each package by name. The process runs in the package's own
 * directory, so the name self-resolves through the package's `exports` map to its dist/.
 *
 * Needs `pnpm build` first (the root `pnpm test` does it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface PackageJson {
  name: string;
  private?: boolean;
}

interface Loaded {
  keys: string[];
  resolved: string;
}

const packagesDir = fileURLToPath(new URL('../packages', import.meta.url));

const packages = readdirSync(packagesDir)
  .map((dir) => join(packagesDir, dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson }))
  .filter(({ pkg }) => pkg.private !== true);

const esmScript = `
const name = process.argv[1];
const mod = await import(name);
console.log(JSON.stringify({ keys: Object.keys(mod).sort(), resolved: import.meta.resolve(name) }));
`;

const cjsScript = `
const name = process.argv[1];
const mod = require(name);
console.log(JSON.stringify({ keys: Object.keys(mod).sort(), resolved: require.resolve(name) }));
`;

function load(dir: string, inputType: 'module' | 'commonjs', script: string, name: string): Loaded {
  const stdout = execFileSync(process.execPath, [`--input-type=${inputType}`, '-e', script, name], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(stdout) as Loaded;
}

it('finds the publishable packages', () => {
  expect(packages.map(({ pkg }) => pkg.name)).toEqual(expect.arrayContaining(['@plinth/protocol', '@plinth/core']));
});

describe.each(packages)('$pkg.name', ({ dir, pkg }) => {
  it('has been built: dist/index.{js,cjs,d.ts,d.cts} exist', () => {
    for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
      expect(existsSync(join(dir, 'dist', file)), `${pkg.name}: dist/${file} is missing; run \`pnpm build\``).toBe(
        true,
      );
    }
  });

  it('loads from ESM and CJS with the same exports, through its exports map', () => {
    const esm = load(dir, 'module', esmScript, pkg.name);
    const cjs = load(dir, 'commonjs', cjsScript, pkg.name);

    expect(esm.resolved.endsWith('/dist/index.js'), `import resolved to ${esm.resolved}`).toBe(true);
    expect(cjs.resolved.replaceAll('\\', '/').endsWith('/dist/index.cjs'), `require resolved to ${cjs.resolved}`).toBe(
      true,
    );

    expect(esm.keys.length).toBeGreaterThan(0);
    expect(cjs.keys.length).toBeGreaterThan(0);
    expect(cjs.keys).toEqual(esm.keys);
  });
});
