import { defineConfig, type Options } from 'tsup';

/**
 * The one build every package uses: ESM + CJS + `.d.ts`/`.d.cts` from `src/index.ts`.
 *
 * ESM is emitted one file per source file so that, with `sideEffects: false`, a bundler drops
 * every module an app does not use: importing one route must not pull in every route's schema.
 * CJS is one bundled file: CJS consumers do not tree-shake.
 */
export function packageBuild() {
  const common: Options = {
    target: 'es2022',
    platform: 'neutral',
    sourcemap: true,
    dts: { entry: { index: 'src/index.ts' } },
  };
  return defineConfig([
    { ...common, entry: ['src/**/*.ts'], format: 'esm', bundle: false, clean: true },
    { ...common, entry: { index: 'src/index.ts' }, format: 'cjs' },
  ]);
}
