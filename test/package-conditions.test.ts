/**
 * `@plinth/client` resolves to its browser build (no data client code) only in browser bundles:
 * servers, including edge runtimes whose bundlers also set `browser`, get the full build. Checked
 * by bundling the built package with esbuild the way each platform's tooling does.
 *
 * Needs `pnpm build` first (the root `pnpm test` does it).
 */
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const clientDir = fileURLToPath(new URL('../packages/client', import.meta.url));
const entry =
  "import { createClient } from '@plinth/client'; export const c = createClient({ url: 'https://x.test', publishableKey: 'pk_x' });";

async function bundledFiles(options: BuildOptions): Promise<string[]> {
  const result = await build({
    stdin: { contents: entry, resolveDir: clientDir, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    logLevel: 'silent',
    metafile: true,
    external: ['node:*'],
    ...options,
  });
  const output = Object.values(result.metafile?.outputs ?? {})[0];
  return Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([file]) => file);
}

const hasQueryCode = (files: string[]) => files.some((file) => file.includes('packages/query/dist/'));

describe('@plinth/client export conditions', () => {
  it.each([
    ['a browser bundle (Vite, webpack, esbuild --platform=browser)', { platform: 'browser' }, false],
    ['Node', { platform: 'node' }, true],
    ['Cloudflare Workers (wrangler)', { platform: 'neutral', conditions: ['workerd', 'worker', 'browser'] }, true],
    ['Vercel Edge', { platform: 'browser', conditions: ['edge-light', 'worker', 'browser'] }, true],
    ['a neutral bundle', { platform: 'neutral' }, true],
  ] as const)('%s: data client included = %s', async (_, options, full) => {
    expect(hasQueryCode(await bundledFiles(options as BuildOptions))).toBe(full);
  });
});
