import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, freePort } from '../fixtures/postgres-cluster.js';

// Faults (`pnpm test:faults`): the built `plinth start`, as an operator runs it, stopped with a
// real SIGTERM while requests are in flight, on PGlite (a directory) and on a PostgreSQL cluster
// of this test's own. Every request the server received gets an HTTP answer: 200 if it was
// received before the stop, 503 with Retry-After if it arrived after (on a connection that was
// already open); none is reset. Acknowledged writes are all there after a restart. A stop that
// cannot drain in time (the drain is short, or SIGTERM comes twice) answers what is left with 503,
// exits 1, and leaves no statement running on PostgreSQL. The figures are printed.

const runs = process.env.PLINTH_FAULTS === '1';
const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request's fate: an HTTP answer, or the socket error the client saw instead. */
interface Outcome {
  status?: number;
  retryAfter?: string | undefined;
  connection?: string | undefined;
  reason?: string;
  error?: string;
}

/** One call over `agent` (each worker has its own, one keep-alive connection). */
function call(agent: Agent, url: string, path: string, body: unknown, key?: string): Promise<Outcome> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const outgoing = request(
      `${url}${path}`,
      {
        agent,
        method: text === undefined ? 'GET' : 'POST',
        headers: {
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (incoming) => {
        let answer = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => {
          answer += chunk;
        });
        incoming.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
        incoming.on('end', () => {
          let reason: string | undefined;
          try {
            reason = (JSON.parse(answer) as { error?: { details?: { reason?: string } } }).error?.details?.reason;
          } catch {}
          resolve({
            status: incoming.statusCode as number,
            retryAfter: incoming.headers['retry-after'],
            connection: incoming.headers.connection,
            ...(reason ? { reason } : {}),
          });
        });
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    outgoing.end(text);
  });
}

const keepAlive = () => new Agent({ keepAlive: true, maxSockets: 1 });

/** `plinth start` in `cwd` with `env`, once it listens: its URL and, on a fresh database (`fresh`), its service key. */
async function startPlinth(cwd: string, env: Record<string, string>, fresh: boolean) {
  const child = spawn(process.execPath, [bin, 'start'], {
    cwd,
    env: { PATH: process.env.PATH, PORT: String(await freePort()), PLINTH_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const stopping = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('Stopping:')) resolve();
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const listening = stdout.match(/Plinth is listening on (\S+)/);
      if (listening && (!fresh || /Service key .*: sk_\S+\n/.test(stdout))) resolve(listening[1] as string);
    });
    exited.then(() => reject(new Error(`plinth start exited: ${stderr}${stdout}`)));
  });
  return {
    child,
    url,
    serviceKey: stdout.match(/Service key .*: (sk_\S+)/)?.[1],
    /** Resolves once the server said it is stopping (it has taken the signal). */
    stopping,
    /** Exit code (or signal) once it exited. */
    exited: exited.then(([code, signal]) => ({ code, signal })),
    stderr: () => stderr,
  };
}

const children: ChildProcess[] = [];
const scratch: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};

/** The app's schema: one table the writers insert into. */
function schemaDir(): string {
  const dir = tempDir('plinth-shutdown-schema-');
  writeFileSync(
    join(dir, '001-shutdown-rows.sql'),
    'CREATE TABLE IF NOT EXISTS public.shutdown_rows (id text PRIMARY KEY);\n' +
      'GRANT SELECT, INSERT ON public.shutdown_rows TO plinth_service;\n',
  );
  return dir;
}

const count = (outcomes: Outcome[]) => {
  const by: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key = outcome.status === undefined ? (outcome.error ?? 'error') : String(outcome.status);
    by[key] = (by[key] ?? 0) + 1;
  }
  return by;
};

/** A 503 from a stopping server: Retry-After, the reason, and the connection closed after it. */
const expectStopping503 = (outcome: Outcome) =>
  expect(outcome).toMatchObject({ status: 503, retryAfter: '1', connection: 'close', reason: 'shutting_down' });

/**
 * 20 writers (one keep-alive connection each) insert rows; 4 slow statements (pg_sleep 0.5 s:
 * on PGlite the writes queue behind them) are sent just before SIGTERM; once the server says it
 * is stopping, 5 idle keep-alive connections opened before the signal each send one more request.
 */
async function stopUnderLoad(server: Awaited<ReturnType<typeof startPlinth>>, label: string) {
  const key = server.serviceKey as string;
  const acknowledged: string[] = [];
  const writes: Outcome[] = [];
  let signalled = false;
  let answeredAfterSignal = 0;
  const idle = Array.from({ length: 5 }, keepAlive);
  for (const agent of idle) expect((await call(agent, server.url, '/v1/health', undefined)).status).toBe(200);

  let writing = 20;
  const writers = Array.from({ length: 20 }, async () => {
    const agent = keepAlive();
    // Bounded, so the per-route rate limit (600 a minute) never answers instead of the server.
    for (let i = 0; i < 20; i++) {
      const id = randomUUID();
      const outcome = await call(
        agent,
        server.url,
        '/v1/query',
        { table: 'shutdown_rows', op: 'insert', values: { id } },
        key,
      );
      writes.push(outcome);
      if (outcome.status === 200) {
        acknowledged.push(id);
        if (signalled) answeredAfterSignal++;
      }
      // Refused (the listener is closed) or 503: this writer is done.
      if (outcome.status !== 200) break;
    }
    agent.destroy();
    writing--;
  });
  while (acknowledged.length < 40) {
    if (writing === 0) throw new Error(`the writers stopped before the signal: ${JSON.stringify(count(writes))}`);
    await sleep(10);
  }
  const slow = Array.from({ length: 4 }, () =>
    call(keepAlive(), server.url, '/v1/sql', { text: 'SELECT pg_sleep(0.5) AS slept' }, key),
  );
  await sleep(150);
  const signalledAt = performance.now();
  server.child.kill('SIGTERM');
  signalled = true;
  await server.stopping;
  const late = await Promise.all(idle.map((agent) => call(agent, server.url, '/v1/health', undefined)));
  const slowOutcomes = await Promise.all(slow);
  await Promise.all(writers);
  const { code } = await server.exited;
  const stopMs = Math.round(performance.now() - signalledAt);
  for (const agent of idle) agent.destroy();
  if (code !== 0) console.info(`faults: ${label} stderr: ${server.stderr()}`);

  console.info(
    `faults: ${label} SIGTERM under load: writes ${JSON.stringify(count(writes))} (${answeredAfterSignal} answered 200 after the signal), slow statements ${JSON.stringify(count(slowOutcomes))}, requests on idle connections after the stop began ${JSON.stringify(count(late))}; exit ${code} ${stopMs} ms after the signal`,
  );
  // Every request got an HTTP answer; a refused connection is a request that never started.
  for (const outcome of [...writes, ...slowOutcomes, ...late]) {
    expect(outcome.error === undefined || outcome.error === 'ECONNREFUSED', JSON.stringify(outcome)).toBe(true);
    if (outcome.status !== undefined) expect([200, 503]).toContain(outcome.status);
    if (outcome.status === 503) expectStopping503(outcome);
  }
  // The slow statements were in flight at the signal: they finish, as do the writes queued then.
  for (const outcome of slowOutcomes) expect(outcome.status).toBe(200);
  expect(answeredAfterSignal).toBeGreaterThan(0);
  // A request on a connection opened before the stop is answered, not reset or refused.
  for (const outcome of late) expectStopping503(outcome);
  expect(code).toBe(0);
  return acknowledged;
}

/** Rows of shutdown_rows, through a restarted server: it also shows the database opens again. */
async function storedIds(cwd: string, env: Record<string, string>, key: string) {
  const again = await startPlinth(cwd, env, false);
  const agent = keepAlive();
  const answer = await new Promise<{ rows: { id: string }[] }>((resolve, reject) => {
    const outgoing = request(
      `${again.url}/v1/sql`,
      {
        agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      },
      (incoming) => {
        let text = '';
        incoming.on('data', (chunk) => {
          text += chunk;
        });
        incoming.on('end', () => resolve(JSON.parse(text)));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify({ text: 'SELECT id FROM public.shutdown_rows' }));
  });
  agent.destroy();
  again.child.kill('SIGTERM');
  expect((await again.exited).code).toBe(0);
  return new Set(answer.rows.map((row) => row.id));
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!runs)('SIGTERM with requests in flight', () => {
  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run pnpm --filter @plinth/server build first.`);
  });

  describe('on PGlite', () => {
    it('every request is answered (200, or 503 after the stop began), none reset; acknowledged writes survive', async () => {
      const cwd = tempDir('plinth-shutdown-pglite-');
      const env = { PLINTH_SCHEMA_DIR: schemaDir(), PLINTH_SHUTDOWN_TIMEOUT_MS: '30000' };
      const server = await startPlinth(cwd, env, true);
      const acknowledged = await stopUnderLoad(server, 'PGlite');
      const stored = await storedIds(cwd, env, server.serviceKey as string);
      const missing = acknowledged.filter((id) => !stored.has(id));
      console.info(`faults: PGlite after the restart: ${acknowledged.length} acknowledged, ${missing.length} missing`);
      expect(missing).toEqual([]);
    }, 120_000);

    it('a second SIGTERM forces the stop: the statement waiting is answered 503, exit 1, the directory opens again', async () => {
      const cwd = tempDir('plinth-shutdown-pglite-forced-');
      const env = { PLINTH_SCHEMA_DIR: schemaDir(), PLINTH_SHUTDOWN_TIMEOUT_MS: '60000' };
      const server = await startPlinth(cwd, env, true);
      const key = server.serviceKey as string;
      const sleeping = call(keepAlive(), server.url, '/v1/sql', { text: 'SELECT pg_sleep(30)' }, key);
      await sleep(300);
      const signalledAt = performance.now();
      server.child.kill('SIGTERM');
      await server.stopping;
      await sleep(300);
      expect(server.child.exitCode).toBeNull();
      server.child.kill('SIGTERM');
      const outcome = await sleeping;
      const { code, signal } = await server.exited;
      const stopMs = Math.round(performance.now() - signalledAt);
      console.info(
        `faults: PGlite second SIGTERM: the sleeping request got ${JSON.stringify(outcome)}; exit ${code} ${stopMs} ms after the first signal`,
      );
      expectStopping503(outcome);
      expect({ code, signal }).toEqual({ code: 1, signal: null });
      expect(server.stderr()).toMatch(/^plinth: stopped without finishing everything: 1 request\(s\)/m);
      expect((await storedIds(cwd, env, key)).size).toBe(0);
    }, 120_000);
  });

  describe('on PostgreSQL', () => {
    let pg: ReturnType<typeof cluster>;
    let admin: postgres.Sql;
    let serviceKey: string | undefined;
    const cwd = () => tempDir('plinth-shutdown-pg-');
    let schema: string;
    const env = (more: Record<string, string> = {}) => ({
      DATABASE_URL: pg.url,
      PLINTH_SCHEMA_DIR: schema,
      ...more,
    });
    // Keys are printed on the first start only: kept for the later ones.
    const start = async (more: Record<string, string>) => {
      const server = await startPlinth(cwd(), env(more), serviceKey === undefined);
      serviceKey ??= server.serviceKey;
      return { ...server, serviceKey: serviceKey as string };
    };
    // Every connection to the cluster but this test's own: the server's, and what they run.
    const others = () =>
      admin<{ pid: number; usename: string; state: string | null; query: string }[]>`
        SELECT pid, usename, state, query FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`;

    beforeAll(async () => {
      pg = cluster(await freePort());
      pg.start();
      schema = schemaDir();
      admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    }, 60_000);

    afterAll(async () => {
      await admin?.end({ timeout: 1 });
      pg?.remove();
    });

    it('every request is answered (200, or 503 after the stop began), none reset; acknowledged writes survive', async () => {
      const server = await start({ PLINTH_SHUTDOWN_TIMEOUT_MS: '30000' });
      const acknowledged = await stopUnderLoad(server, 'PostgreSQL');
      const stored = await storedIds(cwd(), env(), server.serviceKey);
      const missing = acknowledged.filter((id) => !stored.has(id));
      console.info(
        `faults: PostgreSQL after the restart: ${acknowledged.length} acknowledged, ${missing.length} missing`,
      );
      expect(missing).toEqual([]);
      await expect.poll(async () => (await others()).length, { timeout: 2_000 }).toBe(0);
    }, 120_000);

    /** A pg_sleep(30) in flight, the stop as `signal` does it: answered 503, exit 1, nothing left on the cluster. */
    async function forcedStop(
      label: string,
      shutdownMs: string,
      signal: (server: { child: ChildProcess; stopping: Promise<void> }) => Promise<void>,
    ) {
      // The statement timeout would end the sleep by itself before the test does.
      const server = await start({ PLINTH_SHUTDOWN_TIMEOUT_MS: shutdownMs, PLINTH_STATEMENT_TIMEOUT_MS: '60000' });
      const sleeping = call(keepAlive(), server.url, '/v1/sql', { text: 'SELECT pg_sleep(30)' }, server.serviceKey);
      await expect
        .poll(
          async () => (await others()).filter((row) => row.state === 'active' && /pg_sleep\(30\)/.test(row.query)),
          {
            timeout: 10_000,
          },
        )
        .toHaveLength(1);
      const signalledAt = performance.now();
      server.child.kill('SIGTERM');
      await signal(server);
      const outcome = await sleeping;
      const { code, signal: killedBy } = await server.exited;
      const stopMs = Math.round(performance.now() - signalledAt);
      // Right after the exit: nothing of the server's still running a statement.
      const atExit = await others();
      const leftAt = performance.now();
      await expect.poll(async () => (await others()).length, { timeout: 2_000 }).toBe(0);
      console.info(
        `faults: PostgreSQL ${label}: the sleeping request got ${JSON.stringify(outcome)}; exit ${code} ${stopMs} ms after the first signal; at the exit ${atExit.filter((row) => row.state === 'active').length} statement(s) of the server running, ${atExit.length} connection(s) left, gone ${Math.round(performance.now() - leftAt)} ms later`,
      );
      expectStopping503(outcome);
      expect({ code, killedBy }).toEqual({ code: 1, killedBy: null });
      expect(atExit.filter((row) => row.state === 'active')).toEqual([]);
    }

    it('a drain longer than PLINTH_SHUTDOWN_TIMEOUT_MS: the statement is cancelled on the database, exit 1', async () => {
      await forcedStop('drain timed out (500 ms)', '500', async () => {});
    }, 120_000);

    it('a second SIGTERM: the statement is cancelled on the database, exit 1', async () => {
      await forcedStop('second SIGTERM', '60000', async (server) => {
        // Two signals sent before the first is taken would be merged into one.
        await server.stopping;
        await sleep(300);
        expect(server.child.exitCode).toBeNull();
        server.child.kill('SIGTERM');
      });
    }, 120_000);
  });
});
