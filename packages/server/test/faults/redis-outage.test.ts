import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningServer } from '../../src/start-server.js';
import { freePort } from '../fixtures/postgres-cluster.js';
import { type RedisProcess, redisServer, redisServerBin } from '../fixtures/redis-process.js';
import { useTestServer } from '../fixtures/test-server.js';

// Faults (`pnpm test:faults`): two instances share rate limits through a redis-server of this
// test's own, which is killed (and started again) and frozen with SIGSTOP (and thawed) while ten
// callers load both instances. No answer is a 500 and none waits on a frozen Redis past the
// command timeout; while Redis is gone each instance still refuses past its own capacity, and
// `/v1/health` says degraded; once Redis is back the two share one count again. The figures
// are printed. test/rate-limit/redis-outage.test.ts checks the limiter's logging and fallback
// in detail; this file checks what callers see.

const runs = process.env.PLINTH_FAULTS === '1';

// `auth.getMe` (GET /v1/auth/me: 401 without a session, after the limiter) carries the tight
// rule; every other route is limited so loosely that only the tight one meets a 429.
const tightPath = '/v1/auth/me';
const capacity = 3;
const rateRules = {
  default: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
  'auth.getMe': { capacity, refillPerSecond: 0.001 },
};
// Longer than anything here should take; a request that reaches it hangs, and is counted so.
const answerDeadlineMs = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One answer: its status (`timeout` past the deadline, `network error` without one) and how long it took. */
async function call(server: RunningServer, path: string, client?: string) {
  const sent = performance.now();
  const status = await fetch(`${server.url}${path}`, {
    headers: client ? { 'x-forwarded-for': client } : {},
    signal: AbortSignal.timeout(answerDeadlineMs),
  }).then(
    async (response) => {
      await response.arrayBuffer();
      return String(response.status);
    },
    (error: Error) => (error.name === 'TimeoutError' ? 'timeout' : 'network error'),
  );
  return { status, ms: performance.now() - sent };
}

interface HealthBody {
  status: string;
  database: { reachable: boolean };
  rateLimits?: { store: string; shared: boolean };
}

async function health(server: RunningServer) {
  const sent = performance.now();
  const response = await fetch(`${server.url}/v1/health`, { signal: AbortSignal.timeout(answerDeadlineMs) });
  return { status: response.status, body: (await response.json()) as HealthBody, ms: performance.now() - sent };
}

// Each check of a limit counts for a client address of its own (the servers trust
// x-forwarded-for), so its buckets start full in Redis and in each instance's memory alike.
let lastClient = 0;
const freshClient = () => `198.51.100.${++lastClient}`;

/** Statuses of `count` calls to the tight route from `client`, one after another. */
async function tightStatuses(server: RunningServer, client: string, count: number): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < count; i++) statuses.push((await call(server, tightPath, client)).status);
  return statuses;
}

/**
 * Ten callers loop over health, a loosely limited route and the tight route (each caller as its
 * own client, which soon meets 429s) on both instances while `during` runs. Counts every answer
 * by status, and the slowest answer, by path, to a request sent while `isDown()`.
 */
async function underLoad(servers: RunningServer[], isDown: () => boolean, during: () => Promise<void>) {
  const counts: Record<string, number> = {};
  let answeredWhileDown = 0;
  // By path: every route passes the limiter, health included.
  const slowestWhileDownMs: Record<string, number> = {};
  let running = true;
  const paths = ['/v1/health', '/v1/auth/sessions', tightPath];
  const callers = Array.from({ length: 10 }, async (_, caller) => {
    for (let i = 0; running; i++) {
      const server = servers[(caller + i) % servers.length] as RunningServer;
      const path = paths[i % paths.length] as string;
      const down = isDown();
      const answer = await call(server, path, `203.0.113.${caller + 1}`);
      counts[answer.status] = (counts[answer.status] ?? 0) + 1;
      if (down) {
        answeredWhileDown++;
        slowestWhileDownMs[path] = Math.round(Math.max(slowestWhileDownMs[path] ?? 0, answer.ms));
      }
    }
  });
  try {
    await during();
  } finally {
    running = false;
    await Promise.all(callers);
  }
  return { counts, slowestWhileDownMs, answeredWhileDown };
}

describe.runIf(runs && redisServerBin)('Redis killed and frozen under load', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = redisServer(await freePort());
    await redis.start();
  });
  afterAll(async () => {
    await redis?.remove();
  });

  // Two instances behind one Redis, with one key prefix: they share every bucket while it answers.
  const keyPrefix = `plinth:faults:${randomBytes(6).toString('hex')}:`;
  const serverOptions = () => ({
    redisUrl: redis.url,
    rateLimitKeyPrefix: keyPrefix,
    rateRules,
    trustedProxyHeader: 'x-forwarded-for',
  });
  const first = useTestServer(serverOptions);
  const second = useTestServer(serverOptions);
  const both = () => [first(), second()];

  /** One count for both instances: capacity between them, then both refuse. */
  async function expectShared() {
    const client = freshClient();
    expect(await tightStatuses(first(), client, capacity - 1)).toEqual(Array(capacity - 1).fill('401'));
    expect(await tightStatuses(second(), client, 1)).toEqual(['401']);
    expect(await tightStatuses(first(), client, 1)).toEqual(['429']);
    expect(await tightStatuses(second(), client, 1)).toEqual(['429']);
  }

  /** While Redis is gone: health answers 200 degraded, and each instance refuses past its own capacity. */
  async function expectPerInstance() {
    const answers = [];
    for (const server of both()) {
      const answer = await health(server);
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'degraded',
          database: { reachable: true },
          rateLimits: { store: 'memory', shared: false },
        }),
      });
      answers.push(answer);
    }
    const client = freshClient();
    // The trade-off of the fallback: N instances allow N times the limit, never more.
    for (const server of both()) {
      expect(await tightStatuses(server, client, capacity + 1)).toEqual([...Array(capacity).fill('401'), '429']);
    }
    return Math.max(...answers.map((answer) => answer.ms));
  }

  /** How long, from now, until both instances decide through Redis again. */
  async function timeUntilShared() {
    const since = performance.now();
    await vi.waitFor(
      async () => {
        for (const server of both()) expect((await health(server)).body.rateLimits?.store).toBe('redis');
      },
      { timeout: 20_000, interval: 100 },
    );
    return performance.now() - since;
  }

  /** Under load, no answer is a 500, none hung, none failed; the tight route still refused. */
  function expectHonest(counts: Record<string, number>) {
    expect(counts['500'] ?? 0).toBe(0);
    expect(Object.keys(counts).filter((status) => !['200', '401', '429'].includes(status))).toEqual([]);
    expect(counts['429'] ?? 0).toBeGreaterThan(0);
  }

  it('while Redis answers, the instances share one count and health says ok', async () => {
    for (const server of both()) {
      expect((await health(server)).body).toMatchObject({ status: 'ok', rateLimits: { store: 'redis', shared: true } });
    }
    await expectShared();
  });

  it('killed (SIGKILL) under load, then started again: no 500, per-instance limits and degraded health while down, shared again after', async () => {
    let down = false;
    const load = await underLoad(
      both(),
      () => down,
      async () => {
        await sleep(500);
        down = true;
        await redis.kill();
        await sleep(3_000);
      },
    );
    const slowestHealthMs = await expectPerInstance();
    await redis.start();
    const backMs = await timeUntilShared();
    console.info(
      `faults: Redis killed under load: statuses ${JSON.stringify(load.counts)}; ${load.answeredWhileDown} answers while down, slowest (ms) ${JSON.stringify(load.slowestWhileDownMs)}; health while down ${Math.round(slowestHealthMs)} ms; shared again ${Math.round(backMs)} ms after the restart`,
    );
    expectHonest(load.counts);
    expect(load.answeredWhileDown).toBeGreaterThan(0);
    await expectShared();
  }, 60_000);

  it('frozen (SIGSTOP) for 5 s under load, then thawed: every request answered while still frozen, no 500, per-instance limits, shared again after', async () => {
    let frozen = false;
    let thawed = false;
    try {
      const load = await underLoad(
        both(),
        () => frozen,
        async () => {
          await sleep(500);
          frozen = true;
          redis.freeze();
          // Past the command timeout (2 s) of the requests that were waiting on Redis when it froze.
          await sleep(5_000);
        },
      );
      // Still frozen: everything below is answered without Redis.
      const slowestHealthMs = await expectPerInstance();
      redis.thaw();
      thawed = true;
      const backMs = await timeUntilShared();
      console.info(
        `faults: Redis frozen under load: statuses ${JSON.stringify(load.counts)}; ${load.answeredWhileDown} answers while frozen, slowest (ms) ${JSON.stringify(load.slowestWhileDownMs)}; health while frozen ${Math.round(slowestHealthMs)} ms; shared again ${Math.round(backMs)} ms after SIGCONT`,
      );
      expectHonest(load.counts);
      expect(load.answeredWhileDown).toBeGreaterThan(0);
      await expectShared();
    } finally {
      if (!thawed) redis.thaw();
    }
  }, 60_000);
});
