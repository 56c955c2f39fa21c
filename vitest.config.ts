import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = readdirSync(new URL('./packages', import.meta.url));

// Tests import sibling packages from source, so a change in one package is seen by the others'
// tests without a rebuild. The built output is exercised by the package-shape tests in test/.
const alias = Object.fromEntries(packages.map((name) => [`@plinth/${name}`, `${root}packages/${name}/src/index.ts`]));

export default defineConfig({
  resolve: { alias },
  test: {
    // Timeouts guard against a hang; they assert no speed. CI shares a 2-core VM whose speed
    // varies from run to run (a third of its CPU time stolen by the host, on some days), and a
    // test that opens two embedded databases took over vitest's default 5 s on such a day.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `${root}packages/${name}`, include: ['test/**/*.test.ts'] },
      })),
      { extends: true as const, test: { name: 'workspace', root: `${root}test`, include: ['**/*.test.ts'] } },
    ],
  },
});
