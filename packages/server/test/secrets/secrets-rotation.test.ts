import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import { runCli } from '../../src/cli.js';
import type { Database } from '../../src/database/database.js';
import { openDatabase } from '../../src/database/open-database.js';
import { type MasterKeyRing, masterKeyRing, sealSecret } from '../../src/secrets/envelope.js';
import { createSecretsService } from '../../src/secrets/secrets-service.js';

// Rotation between master keys: interrupted at any point and run again, every secret ends on the
// new key and reads back its value; the CLI reports progress and a summary, and `audit` proves
// what is left. A process killed mid-rotation (SIGKILL) is resumed the same way.

const keys = [
  { version: 1, key: randomBytes(32).toString('base64') },
  { version: 2, key: randomBytes(32).toString('base64') },
];
const ringOf = (current: number): MasterKeyRing =>
  masterKeyRing(
    keys.map(({ version, key }) => ({ version, key: Buffer.from(key, 'base64') })),
    current,
  );
const env = (current: number, database: string) => ({
  DATABASE_URL: database.startsWith('postgres') ? database : undefined,
  PLINTH_SECRETS_KEYS: keys.map(({ version, key }) => `${version}:${key}`).join(','),
  PLINTH_SECRETS_KEY_VERSION: String(current),
});

/** `count` secrets on key version 1, written in one statement (the service's put is one per call). */
async function seed(database: Database, count: number): Promise<Map<string, string>> {
  const ring = ringOf(1);
  const values = new Map<string, string>();
  const ids: string[] = [];
  const names: string[] = [];
  const envelopes: string[] = [];
  for (let n = 0; n < count; n++) {
    const id = randomUUID();
    const name = `SECRET_${String(n).padStart(6, '0')}`;
    const value = `value-${n}-${randomBytes(6).toString('hex')}`;
    values.set(name, value);
    ids.push(id);
    names.push(name);
    envelopes.push(sealSecret(ring, 1, id, value));
  }
  await database.query(
    `INSERT INTO plinth.secrets (id, name, key_version, envelope)
     SELECT id, name, 1, envelope FROM unnest($1::uuid[], $2::text[], $3::text[]) AS s(id, name, envelope)`,
    [ids, names, envelopes],
  );
  return values;
}

/** Every secret reads back its value and is on `version`. */
async function expectAll(database: Database, values: Map<string, string>, version: number) {
  const secrets = createSecretsService({ database, ring: ringOf(2) });
  expect(Object.fromEntries(await secrets.countByVersion())).toEqual({ [version]: values.size });
  const rows = (await database.query('SELECT name FROM plinth.secrets ORDER BY name')) as { name: string }[];
  expect(rows).toHaveLength(values.size);
  for (const { name } of rows) {
    const { value, secret } = await secrets.get(name);
    expect(value).toBe(values.get(name));
    expect(secret.keyVersion).toBe(version);
  }
}

const opened: Database[] = [];
afterEach(async () => {
  for (const database of opened.splice(0)) await database.close();
});
async function open(location: string) {
  const database = await openDatabase(location);
  opened.push(database);
  return database;
}

function cliIo(envVars: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (line: string) => out.push(line),
      stderr: (line: string) => err.push(line),
      env: envVars,
      cwd: process.cwd(),
      stopSignal: new Promise(() => {}),
    },
  };
}

describe.each(testDatabaseLocations())('secret rotation on $label', (location) => {
  it('stopped after two batches and run again, leaves every secret readable and on the new key', async () => {
    const database = await open(await location.create());
    const values = await seed(database, 1_000);
    const secrets = createSecretsService({ database, ring: ringOf(2) });
    let batches = 0;
    await expect(
      secrets.rotate({
        to: 2,
        batchSize: 100,
        onProgress: () => {
          if (++batches === 2) throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
    // Two batches committed, the rest untouched: every secret is readable mid-way.
    expect(Object.fromEntries(await secrets.countByVersion())).toEqual({ 1: 800, 2: 200 });
    const mid = createSecretsService({ database, ring: ringOf(2) });
    expect((await mid.get('SECRET_000000')).value).toBe(values.get('SECRET_000000'));

    const resumed = await secrets.rotate({ to: 2, batchSize: 100, concurrency: 3 });
    expect(resumed).toMatchObject({ to: 2, scanned: 1_000, reencrypted: 800, alreadyCurrent: 200 });
    await expectAll(database, values, 2);
  });

  it('also moves a secret written on the old key behind its cursor while it ran', async () => {
    const database = await open(await location.create());
    const values = await seed(database, 400);
    const secrets = createSecretsService({ database, ring: ringOf(2) });
    // The smallest id there is: behind the cursor from the first batch on.
    const straggler = '00000000-0000-4000-8000-000000000001';
    let written = false;
    const summary = await secrets.rotate({
      to: 2,
      batchSize: 100,
      onProgress: async () => {
        if (written) return;
        written = true;
        // An instance still on version 1 writes a new secret mid-rotation.
        await database.query('INSERT INTO plinth.secrets (id, name, key_version, envelope) VALUES ($1, $2, 1, $3)', [
          straggler,
          'WRITTEN_DURING_ROTATION',
          sealSecret(ringOf(1), 1, straggler, 'late'),
        ]);
      },
    });
    expect(summary.reencrypted).toBe(401);
    values.set('WRITTEN_DURING_ROTATION', 'late');
    await expectAll(database, values, 2);
  });

  it('refuses bad usage with exit code 2 and a line that says what to do', async () => {
    const location2 = await location.create();
    const envVars = { ...env(2, location2) };
    for (const [args, message] of [
      [['secrets'], /usage: secrets rotate/],
      [['secrets', 'rotate'], /--to is required/],
      [['secrets', 'rotate', '--to', '3'], /--to 3: no master key of that version is configured/],
      [['secrets', 'rotate', '--to', 'two'], /--to needs a whole number/],
      [['secrets', 'rotate', '--to', '2', '--batch-size', '0'], /--batch-size needs a whole number from 1/],
      [['secrets', 'audit', '--to', '2'], /unknown option --to/],
    ] as const) {
      const run = cliIo(envVars);
      expect(await runCli([...args], run.io), args.join(' ')).toBe(2);
      expect(run.err.join('\n')).toMatch(message);
    }
    const keyless = cliIo({});
    expect(await runCli(['secrets', 'audit', '--key-version', '1'], keyless.io)).toBe(2);
    expect(keyless.err.join('\n')).toMatch(/PLINTH_SECRETS_KEYS=1:/);
    const badKey = cliIo({ PLINTH_SECRETS_KEYS: '1:tooshort' });
    expect(await runCli(['secrets', 'audit', '--key-version', '1'], badKey.io)).toBe(2);
    expect(badKey.err.join('\n')).toMatch(/PLINTH_SECRETS_KEYS: the key of version 1 is not base64 of 32 bytes/);
  });
});

/**
 * Where the CLI finds its database: PostgreSQL by DATABASE_URL, or PGlite in the working
 * directory's .plinth/data, as `plinth` run there would.
 */
const cliDatabases = [
  { label: 'PGlite (the working directory)', postgres: false },
  ...(process.env.DATABASE_URL ? [{ label: 'PostgreSQL', postgres: true }] : []),
];

describe.each(cliDatabases)('plinth secrets on $label', ({ postgres }) => {
  const locations = testDatabaseLocations();
  // A working directory for the CLI, and the database it will find from there.
  const cliPlace = async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'plinth-secrets-cli-'));
    const postgresLocation = locations.find((candidate) => candidate.label === 'PostgreSQL');
    const location = postgres && postgresLocation ? await postgresLocation.create() : join(cwd, '.plinth', 'data');
    return { cwd, location };
  };
  it('rotate, audit and rollback: progress, a summary, audit exit codes', async () => {
    const { cwd, location } = await cliPlace();
    try {
      const seeded = await open(location);
      const values = await seed(seeded, 300);
      await seeded.close();
      opened.pop();
      const cli = async (args: string[], current = 2) => {
        const run = cliIo(env(current, location));
        const code = await runCli(args, { ...run.io, cwd });
        return { code, out: run.out, err: run.err };
      };
      const before = await cli(['secrets', 'audit', '--key-version', '1']);
      expect(before.code).toBe(1);
      expect(before.out).toEqual([
        'version 1: 300 secrets',
        '300 secrets are still on key version 1; run plinth secrets rotate --to 2.',
      ]);
      const rotated = await cli(['secrets', 'rotate', '--to', '2', '--batch-size', '50', '--concurrency', '2']);
      expect(rotated.code).toBe(0);
      // Not a terminal: progress comes as lines on stderr, the last one at 100 %.
      expect(rotated.err.at(-1)).toMatch(/^\[#{24}\] 100% {2}300 \/ 300 {2}[\d,]+\/s$/);
      expect(rotated.out.at(-1)).toMatch(
        /^Done: scanned 300, re-encrypted 300, already on version 2 0, in \d+\.\d s\.$/,
      );
      const after = await cli(['secrets', 'audit', '--key-version', '1']);
      expect(after.code).toBe(0);
      expect(after.out).toEqual([
        'version 2: 300 secrets',
        'No secret is on key version 1: it may be removed from PLINTH_SECRETS_KEYS.',
      ]);
      const back = await cli(['secrets', 'rollback', '--to', '1']);
      expect(back.code).toBe(0);
      expect(back.out[0]).toBe('Rolling back to key version 1.');
      expect(back.out.at(-1)).toMatch(/set PLINTH_SECRETS_KEY_VERSION=1 on every instance/);
      await expectAll(await open(location), values, 1);
    } finally {
      for (const database of opened.splice(0)) await database.close();
      rmSync(cwd, { recursive: true, force: true });
    }
    // Each command opens the database and applies the schema, as `plinth` does: several
    // seconds each for PGlite on a busy machine. The bound guards against a hang only.
  }, 180_000);

  it('redraws one line on a terminal instead', async () => {
    const { cwd, location } = await cliPlace();
    try {
      const seeded = await open(location);
      await seed(seeded, 120);
      await seeded.close();
      opened.pop();
      const run = cliIo(env(2, location));
      const drawn: string[] = [];
      const code = await runCli(['secrets', 'rotate', '--to', '2', '--batch-size', '20'], {
        ...run.io,
        cwd,
        progress: (text) => drawn.push(text),
      });
      expect(code).toBe(0);
      expect(drawn.slice(0, -1)).toHaveLength(6);
      expect(drawn.at(-2)).toMatch(/100% {2}120 \/ 120/);
      // The bar is cleared before the summary.
      expect(drawn.at(-1)).toBe('');
      expect(run.err).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});

const postgresUrl = process.env.DATABASE_URL;
const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

describe.skipIf(!postgresUrl)('a rotation killed with SIGKILL (the built CLI, on PostgreSQL)', () => {
  const postgres = testDatabaseLocations().find((location) => location.label === 'PostgreSQL');
  it('is resumed by running it again: every secret readable and on the new key', async () => {
    const url = await (postgres as { create(): Promise<string> }).create();
    const database = await open(url);
    const values = await seed(database, 20_000);
    const child = spawn(process.execPath, [bin, 'secrets', 'rotate', '--to', '2', '--batch-size', '100'], {
      env: { ...process.env, ...env(2, url) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    // Killed once some batches are committed, and long before the last.
    for (;;) {
      const [row] = (await database.query(
        'SELECT count(*)::int AS moved FROM plinth.secrets WHERE key_version = 2',
      )) as {
        moved: number;
      }[];
      if ((row?.moved ?? 0) >= 1_000) break;
      if (child.exitCode !== null)
        throw new Error('the rotation finished before it could be killed; seed more secrets');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    const counts = createSecretsService({ database, ring: ringOf(2) });
    const mid = Object.fromEntries(await counts.countByVersion());
    expect(mid[1]).toBeGreaterThan(0);
    expect((mid[1] ?? 0) + (mid[2] ?? 0)).toBe(20_000);

    const again = spawn(process.execPath, [bin, 'secrets', 'rotate', '--to', '2'], {
      env: { ...process.env, ...env(2, url) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    again.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const [code] = await once(again, 'exit');
    expect(code).toBe(0);
    expect(output).toMatch(new RegExp(`already on version 2 ${(mid[2] ?? 0).toLocaleString('en-US')}`));
    await expectAll(database, values, 2);
  }, 120_000);
});
