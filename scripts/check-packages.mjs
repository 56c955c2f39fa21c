// Lints every publishable package in packages/ as it would be published:
//   - publint (strict: warnings count as errors) checks package.json against the packed files;
//   - are-the-types-wrong (`attw --pack`, default "strict" profile: node10, node16 from CJS,
//     node16 from ESM and bundler) checks that each entry point's types match its JavaScript.
// Packages must be built first (`pnpm build`). Exits 1 if any check reports an error or warning.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const attw = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'attw.cmd' : 'attw');

// `npm pack` (run by attw) prints this on this machine's npm config; it is harmless.
const harmless = /Unknown user config "nodedir"/;

const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'package.json')))
  .map((entry) => {
    const dir = join(root, 'packages', entry.name);
    return { dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
  })
  .filter(({ pkg }) => !pkg.private);

if (packages.length === 0) {
  console.error('check-packages: no publishable packages found in packages/');
  process.exit(1);
}

const unbuilt = packages.filter(({ dir }) => !existsSync(join(dir, 'dist')));
if (unbuilt.length > 0) {
  console.error(
    `check-packages: no dist/ in ${unbuilt.map(({ pkg }) => pkg.name).join(', ')}. Run \`pnpm build\` first.`,
  );
  process.exit(1);
}

let failed = false;
const summary = [];

for (const { dir, pkg } of packages) {
  // publint
  const { messages, pkg: linted } = await publint({ pkgDir: dir, strict: true });
  const problems = messages.filter((m) => m.type === 'error' || m.type === 'warning');
  for (const message of messages) {
    console.log(`publint ${pkg.name} ${message.type}: ${formatMessage(message, linted)}`);
  }

  // are-the-types-wrong
  const run = spawnSync(attw, ['--pack', dir, '--no-color', '--no-emoji'], { encoding: 'utf8' });
  const stderr = (run.stderr ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !harmless.test(line))
    .join('\n');
  const attwOk = run.status === 0 && !run.error;
  if (!attwOk) {
    console.log(`attw ${pkg.name} (exit ${run.status ?? run.error?.message}):\n${run.stdout}${stderr}`);
  } else if (stderr) {
    console.log(`attw ${pkg.name} stderr:\n${stderr}`);
  }

  const ok = problems.length === 0 && attwOk;
  failed ||= !ok;
  const publintSummary = problems.length === 0 ? 'publint ok' : `publint ${problems.length} problem(s)`;
  summary.push(`${ok ? 'ok  ' : 'FAIL'} ${pkg.name}: ${publintSummary}, attw ${attwOk ? 'ok' : 'FAILED'}`);
}

console.log(`\n${summary.join('\n')}`);
process.exit(failed ? 1 : 0);
