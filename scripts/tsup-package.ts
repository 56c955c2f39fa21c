import { rmSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/**
 * The one build every package uses: ESM + CJS + `.d.ts`/`.d.cts` from `src/index.ts`.
 *
 * ESM is emitted one file per source file so that, with `sideEffects: false`, a bundler drops
 * every module an app does not use: importing one route must not pull in every route's schema.
 * CJS is one bundled file: CJS consumers do not tree-shake. Browser-bound packages build for the
 * `neutral` platform; the server builds for `node`.
 */
export function packageBuild({ platform = 'neutral' }: { platform?: 'neutral' | 'node' } = {}) {
  // Cleaned here, once, before both builds start: tsup runs the ESM and CJS builds in parallel,
  // and a `clean: true` on either could delete the other's output.
  rmSync('dist', { recursive: true, force: true });
  const common: Options = {
    target: 'es2022',
    platform,
    // The server reads files beside its modules (schema/, package.json) via import.meta.url,
    // which the CJS build needs shimmed.
    shims: platform === 'node',
    sourcemap: true,
    dts: { entry: { index: 'src/index.ts' } },
  };
  return defineConfig([
    { ...common, entry: ['src/**/*.ts'], format: 'esm', bundle: false },
    { ...common, entry: { index: 'src/index.ts' }, format: 'cjs' },
  ]);
}
