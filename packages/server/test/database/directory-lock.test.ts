import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryInUseError, lockDirectory, lockFileName } from '../../src/database/directory-lock.js';
import { openDatabase } from '../../src/database/open-database.js';
import { createKeyRing, hashKey } from '../../src/keys/key-ring.js';

// One process per PGlite directory: a second one (a CLI command, another server) is refused
// with one line naming the holder, and the directory survives it; a holder killed with SIGKILL
// leaves a stale lock that the next process takes over.

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-lock-'));
  dirs.push(dir);
  return dir;
};
const lockFile = (dir: string) => join(dir, lockFileName);

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

describe('lockDirectory', () => {
  it('refuses a second lock naming the holder; after release the directory can be locked again', () => {
    const dir = scratch();
    const lock = lockDirectory(dir, { command: 'plinth start' });
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toMatchObject({
      pid: process.pid,
      hostname: hostname(),
      command: 'plinth start',
    });
    let refusal: unknown;
    try {
      lockDirectory(dir, { command: 'plinth keys rotate' });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DirectoryInUseError);
    expect((refusal as DirectoryInUseError).code).toBe('database_in_use');
    expect((refusal as Error).message).toMatch(
      new RegExp(
        `^the database directory ${dir} is in use by process ${process.pid} \\(plinth start, since \\S+Z on host \\S+\\); stop that process first`,
      ),
    );
    lock.release();
    expect(existsSync(lockFile(dir))).toBe(false);
    lockDirectory(dir, { command: 'plinth keys rotate' }).release();
  });

  it('takes over the lock of a process that has exited', async () => {
    const dir = scratch();
    const stale = {
      pid: await deadPid(),
      hostname: hostname(),
      startedAt: '2026-01-01T00:00:00Z',
      command: 'plinth start',
    };
    writeFileSync(lockFile(dir), JSON.stringify(stale));
    const lock = lockDirectory(dir, { command: 'plinth dev' });
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid, command: 'plinth dev' });
    lock.release();
  });

  it.skipIf(process.platform !== 'linux')(
    'takes over a lock whose pid now belongs to another process (a reused pid)',
    () => {
      const dir = scratch();
      // This process's pid, but a start time that is not this process's.
      const reused = {
        pid: process.pid,
        hostname: hostname(),
        startedAt: '2026-01-01T00:00:00Z',
        command: 'plinth start',
        processStart: '1',
      };
      writeFileSync(lockFile(dir), JSON.stringify(reused));
      lockDirectory(dir, { command: 'plinth start' }).release();
    },
  );

  it('refuses a lock from another host, which cannot be checked from here, and says how to clear it', async () => {
    const dir = scratch();
    const foreign = {
      pid: await deadPid(),
      hostname: 'elsewhere.example',
      startedAt: '2026-01-01T00:00:00Z',
      command: 'plinth start',
    };
    writeFileSync(lockFile(dir), JSON.stringify(foreign));
    expect(() => lockDirectory(dir)).toThrow(
      /in use by process \d+ \(plinth start, since 2026-01-01T00:00:00Z on host elsewhere\.example\); this host cannot tell .* delete .*\.plinth-lock\.$/,
    );
  });

  it('refuses a lock file that is not a lock (it may be one being written) and leaves it as it is', () => {
    const dir = scratch();
    for (const garbage of ['', 'not json', '{"pid":"x"}', '{"pid":0,"hostname":"h","startedAt":"s","command":"c"}']) {
      writeFileSync(lockFile(dir), garbage);
      let refusal: unknown;
      try {
        lockDirectory(dir);
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(DirectoryInUseError);
      expect((refusal as Error).message).toMatch(/has a lock file that cannot be read .* delete .*\.plinth-lock\.$/);
      expect(readFileSync(lockFile(dir), 'utf8')).toBe(garbage);
    }
    unlinkSync(lockFile(dir));
    lockDirectory(dir).release();
  });

  it('release leaves a lock file that is no longer its own', () => {
    const dir = scratch();
    const lock = lockDirectory(dir);
    const other = JSON.stringify({ pid: 1, hostname: 'elsewhere.example', startedAt: 's', command: 'c' });
    writeFileSync(lockFile(dir), other);
    lock.release();
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(other);
  });
});

describe('openDatabase on a directory', () => {
  it('refuses a second open while the first is open, and PGlite opens again with the lock file in its directory', async () => {
    const dir = join(scratch(), 'data');
    const first = await openDatabase(dir);
    let written = '';
    try {
      expect(existsSync(lockFile(dir))).toBe(true);
      await expect(openDatabase(dir)).rejects.toBeInstanceOf(DirectoryInUseError);
      written = await createKeyRing(first).rotateServiceKey();
    } finally {
      await first.close();
    }
    expect(existsSync(lockFile(dir))).toBe(false);
    const again = await openDatabase(dir);
    try {
      expect(await createKeyRing(again).verify('service', written)).toBe(true);
    } finally {
      await again.close();
    }
  });
});

// The built CLI, as an operator runs it.
const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const builtLock = fileURLToPath(new URL('../../dist/database/directory-lock.js', import.meta.url));

/** The CLI's environment: nothing of the test's own (a DATABASE_URL would point it elsewhere). */
const cliEnv = { PATH: process.env.PATH, PORT: '0', PLINTH_LOG_LEVEL: 'silent' };

/** Runs the built CLI to its end. */
async function plinth(args: string[], cwd: string) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** `plinth start` in `cwd`, once it listens: its URL and, on a fresh directory (`fresh`), its service key. */
async function startPlinth(cwd: string, fresh: boolean) {
  const child = spawn(process.execPath, [bin, 'start'], { cwd, env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const listening = stdout.match(/Plinth is listening on (\S+)/);
      if (listening && (!fresh || /Service key .*: sk_\S+\n/.test(stdout))) resolve(listening[1] as string);
    });
    exited.then(() => reject(new Error(`plinth start exited: ${stderr}${stdout}`)));
  });
  const serviceKey = stdout.match(/Service key .*: (sk_\S+)/)?.[1];
  return {
    child,
    url,
    serviceKey,
    async stop() {
      child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** The service key works against the running server: health, and a call that needs the key. */
async function expectServing(url: string, serviceKey: string) {
  expect((await fetch(`${url}/v1/health`)).status).toBe(200);
  const schema = await fetch(`${url}/v1/schema`, { headers: { authorization: `Bearer ${serviceKey}` } });
  expect(schema.status).toBe(200);
}

describe('the built CLI on a directory a running server holds', () => {
  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run pnpm --filter @plinth/server build first.`);
  });

  it('refuses a second process 20 times in one line with exit code 2; the server and its keys are untouched', async () => {
    const cwd = scratch();
    const server = await startPlinth(cwd, true);
    const original = server.serviceKey as string;
    expect(original).toMatch(/^sk_/);
    await expectServing(server.url, original);
    const refusal = new RegExp(
      `^plinth: the database directory \\.plinth/data is in use by process ${server.child.pid} \\(plinth start, since \\S+Z on host \\S+\\); stop that process first, or do this through the running server\\.\\n$`,
    );
    for (let round = 0; round < 20; round++) {
      const args = round % 2 === 0 ? ['keys', 'rotate'] : ['start'];
      const second = await plinth(args, cwd);
      expect({ round, args, code: second.code, stdout: second.stdout }).toEqual({ round, args, code: 2, stdout: '' });
      expect(second.stderr).toMatch(refusal);
      await expectServing(server.url, original);
    }
    expect(await server.stop()).toBe(0);

    const dir = join(cwd, '.plinth', 'data');
    expect(existsSync(lockFile(dir))).toBe(false);
    const database = await openDatabase(dir);
    try {
      const active = await database.query<{ key_hash: string }>(
        "SELECT key_hash FROM plinth.keys WHERE kind = 'service' AND revoked_at IS NULL",
      );
      expect(active).toEqual([{ key_hash: hashKey(original) }]);
      expect(await createKeyRing(database).verify('service', original)).toBe(true);
    } finally {
      await database.close();
    }
  }, 120_000);

  it('after a kill -9 of the server, the next plinth start takes the stale lock over and serves', async () => {
    const cwd = scratch();
    const first = await startPlinth(cwd, true);
    const original = first.serviceKey as string;
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const left = JSON.parse(readFileSync(lockFile(join(cwd, '.plinth', 'data')), 'utf8'));
    expect(left).toMatchObject({ pid: first.child.pid, command: 'plinth start' });

    const second = await startPlinth(cwd, false);
    await expectServing(second.url, original);
    expect(JSON.parse(readFileSync(lockFile(join(cwd, '.plinth', 'data')), 'utf8'))).toMatchObject({
      pid: second.child.pid,
    });
    expect(await second.stop()).toBe(0);
  }, 120_000);

  it('a process that exits without releasing (process.exit, an uncaught error) leaves no lock behind', async () => {
    for (const ending of ['process.exit(3)', 'throw new Error("boom")']) {
      const dir = scratch();
      const script = `import { lockDirectory } from ${JSON.stringify(builtLock)}; lockDirectory(${JSON.stringify(dir)}); ${ending};`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
      children.push(child);
      const [code] = await once(child, 'exit');
      expect({ ending, code, locked: existsSync(lockFile(dir)) }).toEqual({
        ending,
        code: ending.startsWith('process') ? 3 : 1,
        locked: false,
      });
    }
  });
});
