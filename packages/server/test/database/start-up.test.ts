import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import { resolveConfig } from '../../src/config.js';
import { openDatabaseAtStart, type StartWaitOptions } from '../../src/database/open-database.js';
import { DatabaseStartError, DatabaseUnreachableError } from '../../src/database/start-errors.js';
import { startServer } from '../../src/start-server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-start-up-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nothing listens on: taken from the system, then let go. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Options of openDatabaseAtStart as startServer gives them, with a logger that keeps the warnings. */
function startOptions(waitSeconds: number) {
  const warnings: string[] = [];
  const options: StartWaitOptions = {
    waitSeconds,
    names: {
      database: 'DATABASE_URL',
      dataUrl: 'PLINTH_DATA_DATABASE_URL',
      waitSeconds: 'PLINTH_DATABASE_WAIT_SECONDS',
    },
    logger: { warn: (_fields, message) => warnings.push(message) },
  };
  return { options, warnings };
}

/** Settings every start here shares: no variable of the test's own environment, no files in the repository. */
const quiet = () => ({ env: {}, logLevel: 'silent', storageDir: tempDir() });

const password = 'hunter2-not-printed';

describe('PLINTH_DATABASE_WAIT_SECONDS', () => {
  it('is 30 by default, and a whole number from 0 to 600', () => {
    expect(resolveConfig({}, {}).config.databaseWaitSeconds).toBe(30);
    expect(resolveConfig({}, { PLINTH_DATABASE_WAIT_SECONDS: '0' }).config.databaseWaitSeconds).toBe(0);
    expect(() => resolveConfig({}, { PLINTH_DATABASE_WAIT_SECONDS: '601' })).toThrow(
      /^PLINTH_DATABASE_WAIT_SECONDS: must be a whole number from 0 to 600; got "601"\.$/,
    );
  });
});

describe('a PostgreSQL nothing answers', () => {
  it('is tried again, a warning each time, then fails in one line naming the setting, host:port and cause', async () => {
    const port = await freePort();
    const url = `postgres://plinth:${password}@127.0.0.1:${port}/plinth`;
    const { options, warnings } = startOptions(1);
    const failure = await openDatabaseAtStart(url, {}, options).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseUnreachableError);
    const error = failure as DatabaseUnreachableError;
    expect(error.code).toBe('database_unreachable');
    expect(error.attempts).toBeGreaterThan(1);
    // One warning per failed try that was tried again; the last try's failure is the error.
    expect(warnings).toHaveLength(error.attempts - 1);
    expect(warnings[0]).toBe(
      `DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:${port} (connection refused); trying again in 0.25 s`,
    );
    expect(error.message).toMatch(
      new RegExp(
        `^DATABASE_URL: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(connection refused\\) after waiting \\d+ s; check the host and port, or set PLINTH_DATABASE_WAIT_SECONDS to wait longer\\.$`,
      ),
    );
    expect(`${error.message}${warnings.join('')}`).not.toContain(password);
  });

  it('stops startServer() with the same error, naming the option it was given as', async () => {
    const port = await freePort();
    const failure = await startServer({
      ...quiet(),
      database: `postgres://plinth:${password}@127.0.0.1:${port}/plinth`,
      databaseWaitSeconds: 1,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseUnreachableError);
    const error = failure as DatabaseUnreachableError;
    expect(error.attempts).toBeGreaterThan(1);
    expect(error.message).toMatch(
      new RegExp(
        `^database: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(connection refused\\) after waiting \\d+ s; .* set databaseWaitSeconds to wait longer\\.$`,
      ),
    );
    expect(error.message).not.toContain(password);
  });

  it('with a host that is not found, says so', async () => {
    const { options } = startOptions(0);
    const failure = await openDatabaseAtStart(
      `postgres://plinth:${password}@db.invalid:5432/plinth`,
      {},
      options,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseUnreachableError);
    expect((failure as Error).message).toMatch(
      /^DATABASE_URL: cannot reach PostgreSQL at db\.invalid:5432 \(host not found\) after waiting 0 s;/,
    );
  });
});

describe('failures waiting cannot fix fail at once, in one line naming the setting', () => {
  it('a password PostgreSQL refuses (28P01)', async () => {
    // A server that answers every login as PostgreSQL does a wrong password: an ErrorResponse.
    const fields = Buffer.from(
      'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "plinth"\0\0',
      'latin1',
    );
    const length = Buffer.alloc(4);
    length.writeInt32BE(fields.length + 4);
    const refusing = createServer((socket) => {
      socket.once('data', () => socket.end(Buffer.concat([Buffer.from('E'), length, fields])));
    });
    refusing.listen(0, '127.0.0.1');
    await once(refusing, 'listening');
    cleanups.push(() => new Promise((resolve) => refusing.close(resolve)));
    const { port } = refusing.address() as { port: number };
    // Were it waited for, this would outlast the test's timeout.
    const { options, warnings } = startOptions(600);
    const failure = await openDatabaseAtStart(
      `postgres://plinth:${password}@127.0.0.1:${port}/plinth`,
      {},
      options,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseStartError);
    expect(failure).not.toBeInstanceOf(DatabaseUnreachableError);
    expect((failure as DatabaseStartError).code).toBe('database_login_refused');
    expect((failure as Error).message).toBe(
      `DATABASE_URL: PostgreSQL at 127.0.0.1:${port} refused the login (password authentication failed for user "plinth"); check the user name and password in the URL.`,
    );
    expect(warnings).toEqual([]);
  });

  it('a PGlite path that is a file', async () => {
    const file = join(tempDir(), 'data');
    writeFileSync(file, 'not a database');
    const failure = await startServer({ ...quiet(), database: file }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseStartError);
    expect((failure as DatabaseStartError).code).toBe('database_path_unusable');
    expect((failure as Error).message).toBe(
      `database: ${file} is a file, not a directory; name a directory for the embedded database, or a postgres:// URL.`,
    );
  });
});

// The machine's PostgreSQL: DATABASE_URL, else one on 127.0.0.1:5432 that lets `postgres` in.
const localUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const adminUrl =
  process.env.DATABASE_URL ??
  (await new Promise<string | undefined>((resolve) => {
    const socket = createConnection(5432, '127.0.0.1');
    const answer = (url: string | undefined) => {
      socket.destroy();
      resolve(url);
    };
    socket.once('connect', () => answer(localUrl)).once('error', () => answer(undefined));
    socket.setTimeout(1_000, () => answer(undefined));
  }));
// The fixture makes (and drops) a fresh database on the PostgreSQL that DATABASE_URL names; the
// server makes a login role and its schema there, never in the cluster's own `postgres` database.
const previousUrl = process.env.DATABASE_URL;
if (adminUrl) process.env.DATABASE_URL = adminUrl;
const postgresLocation = testDatabaseLocations().find((location) => location.label === 'PostgreSQL');
if (previousUrl === undefined) delete process.env.DATABASE_URL;

describe.skipIf(!postgresLocation)('on PostgreSQL', () => {
  /** A TCP proxy to PostgreSQL on `port` that refuses connections until `open()` (nothing listens). */
  function lateProxy(port: number, target: URL) {
    const sockets = new Set<Socket>();
    const proxy: Server = createServer((client) => {
      const upstream = createConnection(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      if (proxy.listening) await new Promise((resolve) => proxy.close(resolve));
    });
    return { open: () => proxy.listen(port, '127.0.0.1') };
  }

  it('a database that comes up while the start waits is used, and the server answers', async () => {
    const fresh = new URL((await postgresLocation?.create()) as string);
    const port = await freePort();
    const proxy = lateProxy(port, fresh);
    const opening = setTimeout(proxy.open, 1_500);
    cleanups.push(() => clearTimeout(opening));
    const late = new URL(fresh.href);
    late.hostname = '127.0.0.1';
    late.port = String(port);
    const server = await startServer({ ...quiet(), database: late.href, databaseWaitSeconds: 10 });
    cleanups.push(() => server.close());
    expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
  });

  it('a database that does not exist fails at once', async () => {
    const missing = new URL(adminUrl as string);
    missing.pathname = '/plinth_no_such_database';
    const { options, warnings } = startOptions(600);
    const failure = await openDatabaseAtStart(missing.href, {}, options).catch((error: unknown) => error);
    expect((failure as DatabaseStartError).code).toBe('database_missing');
    expect((failure as Error).message).toBe(
      `DATABASE_URL: PostgreSQL at ${missing.hostname}:${missing.port || 5432} has no database named plinth_no_such_database; create it (CREATE DATABASE plinth_no_such_database), or fix the name at the end of the URL.`,
    );
    expect(warnings).toEqual([]);
  });

  it('a user PostgreSQL does not know fails at once (28000)', async () => {
    const stranger = new URL(adminUrl as string);
    stranger.username = 'plinth_no_such_user';
    stranger.password = password;
    const { options, warnings } = startOptions(600);
    const failure = await openDatabaseAtStart(stranger.href, {}, options).catch((error: unknown) => error);
    expect((failure as DatabaseStartError).code).toBe('database_login_refused');
    expect((failure as Error).message).toMatch(
      /^DATABASE_URL: PostgreSQL at \S+ refused the login \(.*plinth_no_such_user.*\); check the user name/,
    );
    expect((failure as Error).message).not.toContain(password);
    expect(warnings).toEqual([]);
  });
});

describe('the built CLI', () => {
  const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

  it('plinth start: an unreachable DATABASE_URL is one line on stderr and exit code 2', async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      PORT: '0',
      DATABASE_URL: `postgres://plinth:${password}@127.0.0.1:${port}/plinth`,
      PLINTH_DATABASE_WAIT_SECONDS: '1',
      PLINTH_LOG_LEVEL: 'silent',
    };
    const child = spawn(process.execPath, [bin, 'start'], { cwd: tempDir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill());
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      new RegExp(
        `^plinth: DATABASE_URL: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(connection refused\\) after waiting \\d+ s;`,
      ),
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain(password);
  });
});
