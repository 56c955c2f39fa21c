import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routeTable } from '@plinth/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { pinnedPublicRoutes } from '../../../test/fixtures/public-routes.js';
import { type CliIo, runCli } from '../src/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function io(env: Record<string, string | undefined> = {}, stop: Promise<unknown> = new Promise(() => {})) {
  const cwd = mkdtempSync(join(tmpdir(), 'plinth-cli-'));
  dirs.push(cwd);
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = { stdout: (line) => out.push(line), stderr: (line) => err.push(line), env, cwd, stopSignal: stop };
  return { cli, out, err, cwd };
}

describe('plinth routes', () => {
  it('--public prints exactly the routes anyone may call', async () => {
    const { cli, out } = io();
    expect(await runCli(['routes', '--public'], cli)).toBe(0);
    expect(out).toEqual(pinnedPublicRoutes);
  });

  it('prints every route with its auth requirement', async () => {
    const { cli, out } = io();
    expect(await runCli(['routes'], cli)).toBe(0);
    expect(out).toHaveLength(routeTable.length);
    expect(out[0]).toMatch(/^GET\s+\/v1\/health\s+none\s+health$/);
  });
});

describe('bad configuration', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /^plinth: PORT: must be a whole number from 0 to 65535; got "eighty"\.$/],
    [{ PORT: '70000' }, /^plinth: PORT: /],
    [{ DATABASE_URL: 'mysql://x@y/z' }, /^plinth: DATABASE_URL: must start with postgres: or postgresql:/],
    [{ DATABASE_URL: 'not a url' }, /^plinth: DATABASE_URL: is not a URL; set it like postgres:\/\//],
    [{ REDIS_URL: 'http://x' }, /^plinth: REDIS_URL: must start with redis: or rediss:/],
    [
      { PLINTH_CORS_ORIGINS: 'https://app.example.com/path' },
      /^plinth: PLINTH_CORS_ORIGINS: "https:\/\/app\.example\.com\/path" is not an origin/,
    ],
    [{ PLINTH_LOG_LEVEL: 'loud' }, /^plinth: PLINTH_LOG_LEVEL: must be one of/],
    [{ PLINTH_MAX_BODY_BYTES: '10' }, /^plinth: PLINTH_MAX_BODY_BYTES: /],
    [{ PLINTH_STATEMENT_TIMEOUT_MS: 'soon' }, /^plinth: PLINTH_STATEMENT_TIMEOUT_MS: must be a whole number/],
    [{ PLINTH_MAX_ROWS: '0' }, /^plinth: PLINTH_MAX_ROWS: must be a whole number from 1/],
    [{ PLINTH_HEADERS_TIMEOUT_MS: '0' }, /^plinth: PLINTH_HEADERS_TIMEOUT_MS: must be a whole number from 1/],
    [{ PLINTH_KEEP_ALIVE_TIMEOUT_MS: 'forever' }, /^plinth: PLINTH_KEEP_ALIVE_TIMEOUT_MS: must be a whole number/],
    [{ PLINTH_DATA_POOL_SIZE: '0' }, /^plinth: PLINTH_DATA_POOL_SIZE: must be a whole number from 1/],
    [
      { PLINTH_DATA_DATABASE_URL: 'http://x' },
      /^plinth: PLINTH_DATA_DATABASE_URL: must start with postgres: or postgresql:/,
    ],
    [{ PLINTH_EXPOSED_SCHEMAS: 'public,"x"' }, /^plinth: PLINTH_EXPOSED_SCHEMAS: ""x"" is not a schema name/],
    [
      { PLINTH_SCHEMA_DIR: '/nonexistent/plinth-schema' },
      /^plinth: PLINTH_SCHEMA_DIR: \/nonexistent\/plinth-schema is not a directory/,
    ],
  ];
  for (const [env, message] of cases) {
    it(`${Object.keys(env)[0]}=${Object.values(env)[0]} → one line naming the variable, exit 2`, async () => {
      const { cli, err, out } = io(env);
      expect(await runCli(['start'], cli)).toBe(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(message);
      expect(out).toEqual([]);
    });
  }

  it('an unknown command prints the usage and exits 2', async () => {
    const { cli, err } = io();
    expect(await runCli(['serve'], cli)).toBe(2);
    expect(err[0]).toMatch(/^Usage: plinth <command>/);
  });
});

describe('plinth dev and keys rotate', () => {
  it('dev starts on PGlite in .plinth/, prints the keys once and saves them 0600; rotate replaces the service key', async () => {
    let stop: (value?: unknown) => void = () => {};
    const stopped = new Promise((resolve) => {
      stop = resolve;
    });
    const { cli, out, cwd } = io({ PORT: '0', PLINTH_LOG_LEVEL: 'silent' }, stopped);
    const running = runCli(['dev'], cli);
    await expect.poll(() => out.some((line) => line.startsWith('Keys saved to')), { timeout: 20_000 }).toBe(true);

    const url = out.find((line) => line.startsWith('Plinth is listening on '))?.slice('Plinth is listening on '.length);
    const health = await fetch(`${url}/v1/health`);
    expect(health.status).toBe(200);
    const keysFile = join(cwd, '.plinth', 'keys.env');
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    const saved = Object.fromEntries(
      readFileSync(keysFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    );
    expect(saved.PLINTH_SERVICE_KEY).toMatch(/^sk_/);
    expect(out.join('\n')).toContain(saved.PLINTH_SERVICE_KEY);
    stop();
    expect(await running).toBe(0);

    const rotated = io({ PLINTH_LOG_LEVEL: 'silent' });
    rotated.cli.cwd = cwd;
    expect(await runCli(['keys', 'rotate'], rotated.cli)).toBe(0);
    const fresh = rotated.out[0]?.match(/(sk_\S+)/)?.[1];
    expect(fresh).toMatch(/^sk_/);
    expect(fresh).not.toBe(saved.PLINTH_SERVICE_KEY);
  }, 60_000);
});
