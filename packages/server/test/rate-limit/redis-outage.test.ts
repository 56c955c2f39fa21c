import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RateLimiter } from '../../src/rate-limit/rate-limiter.js';
import { createRedisRateLimiter } from '../../src/rate-limit/redis-rate-limiter.js';
import type { RunningServer } from '../../src/start-server.js';
import { freePort } from '../fixtures/postgres-cluster.js';
import { type RedisProcess, redisServer, redisServerBin } from '../fixtures/redis-process.js';
import { useTestServer } from '../fixtures/test-server.js';

// Redis killed, restarted and frozen under load, against a redis-server of this file's own on a
// free port: never a Redis someone else uses. Skipped where redis-server is not installed.

// `auth.getMe` (GET /v1/auth/me, a 401 without a session, after the limiter) carries the tight
// rule; everything else is limited so loosely that the load below never meets a 429.
const tightPath = '/v1/auth/me';
const rateRules = {
  default: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
  'auth.getMe': { capacity: 3, refillPerSecond: 0.001 },
};

interface HealthBody {
  status: string;
  database: { reachable: boolean };
  rateLimits?: { store: string; shared: boolean };
}

async function health(server: RunningServer): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(`${server.url}/v1/health`);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

/** Statuses of `count` requests to the tight route, one after another. */
async function tightStatuses(server: RunningServer, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${server.url}${tightPath}`);
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  return statuses;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ten callers loop over GET /v1/health and GET /v1/auth/sessions on both servers while `during`
 * runs, and every answer is counted by status (a failed fetch counts as `network error`).
 */
async function underLoad(servers: RunningServer[], during: () => Promise<void>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let running = true;
  const paths = ['/v1/health', '/v1/auth/sessions'];
  const callers = Array.from({ length: 10 }, async (_, caller) => {
    for (let i = 0; running; i++) {
      const server = servers[(caller + i) % servers.length] as RunningServer;
      const path = paths[i % paths.length] as string;
      const status = await fetch(`${server.url}${path}`).then(
        async (response) => {
          await response.arrayBuffer();
          return String(response.status);
        },
        () => 'network error',
      );
      counts[status] = (counts[status] ?? 0) + 1;
    }
  });
  try {
    await during();
  } finally {
    running = false;
    await Promise.all(callers);
  }
  return counts;
}

describe.runIf(redisServerBin)('rate limits when Redis fails', () => {
  const keyPrefix = `plinth:test:outage:${randomBytes(6).toString('hex')}:`;
  let redis: RedisProcess;
  let redisUrl = '';
  // A limiter of this file's own, to read what it logs.
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn() };
  let direct: RateLimiter;

  beforeAll(async () => {
    redis = redisServer(await freePort());
    redisUrl = redis.url;
    await redis.start();
    direct = createRedisRateLimiter(redisUrl, { keyPrefix: `${keyPrefix}direct:`, logger });
  });

  // Two instances behind one Redis, with one key prefix: they share every bucket while it answers.
  const serverOptions = () => ({ redisUrl, rateLimitKeyPrefix: keyPrefix, rateRules });
  const first = useTestServer(serverOptions);
  const second = useTestServer(serverOptions);

  afterAll(async () => {
    await direct?.close();
    await redis?.remove();
  });

  const waitForStore = (store: 'redis' | 'memory') =>
    vi.waitFor(
      async () => {
        for (const server of [first(), second()]) {
          expect((await health(server)).body.rateLimits?.store).toBe(store);
        }
        expect(direct.status?.().store).toBe(store);
      },
      { timeout: 20_000, interval: 200 },
    );

  it('shares one count between the instances while Redis answers, and health says ok', async () => {
    for (const server of [first(), second()]) {
      expect(await health(server)).toEqual({
        status: 200,
        body: expect.objectContaining({ status: 'ok', rateLimits: { store: 'redis', shared: true } }),
      });
    }
    // Capacity 3 between both: two from the first, one from the second, then both refuse.
    expect(await tightStatuses(first(), 2)).toEqual([401, 401]);
    expect(await tightStatuses(second(), 1)).toEqual([401]);
    expect(await tightStatuses(first(), 1)).toEqual([429]);
    expect(await tightStatuses(second(), 1)).toEqual([429]);
  });

  it('Redis killed under load: no answer is a 500, and health answers 200 degraded, on memory', async () => {
    const counts = await underLoad([first(), second()], async () => {
      await sleep(500);
      await redis.kill();
      // Requests in flight at the kill wait at most the command timeout (2 s); keep loading past it.
      await sleep(3000);
    });
    expect(counts['500'] ?? 0).toBe(0);
    // Health answers 200, GET /v1/auth/sessions 401 without a session: nothing else, no network error.
    expect(Object.keys(counts).sort()).toEqual(['200', '401']);
    for (const server of [first(), second()]) {
      expect(await health(server)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'degraded',
          database: { reachable: true },
          rateLimits: { store: 'memory', shared: false },
        }),
      });
    }
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => direct.consume(`k${i}|ip:1`, rateRules.default)),
    );
    expect(decisions.every((decision) => decision.allowed)).toBe(true);
    expect(direct.status?.()).toEqual({ store: 'memory', degraded: true });
    // One warning for the outage, not one per request.
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('while Redis is down, limits still apply, per instance: capacity 3 each, then 429', async () => {
    expect(await tightStatuses(first(), 4)).toEqual([401, 401, 401, 429]);
    // The second instance counts on its own: the trade-off, N instances allow N times a limit.
    expect(await tightStatuses(second(), 4)).toEqual([401, 401, 401, 429]);
  });

  it('Redis restarted on the same port: decisions go back to it and the count is shared again', async () => {
    await redis.start();
    await waitForStore('redis');
    for (const server of [first(), second()]) {
      expect((await health(server)).body).toMatchObject({ status: 'ok', rateLimits: { store: 'redis', shared: true } });
    }
    expect(logger.info).toHaveBeenCalledTimes(1);
    // A restarted Redis without persistence starts with full buckets; one count for both again.
    expect(await tightStatuses(first(), 2)).toEqual([401, 401]);
    expect(await tightStatuses(second(), 1)).toEqual([401]);
    expect(await tightStatuses(second(), 1)).toEqual([429]);
    expect(await tightStatuses(first(), 1)).toEqual([429]);
  });

  it('Redis frozen (SIGSTOP) under load: every request answers, none with a 500, and it falls back; SIGCONT brings it back', async () => {
    let thawed = false;
    try {
      const counts = await underLoad([first(), second()], async () => {
        await sleep(300);
        redis.freeze();
        // Past the command timeout (2 s) of the requests that were waiting when it froze.
        await sleep(3500);
      });
      expect(counts['500'] ?? 0).toBe(0);
      expect(Object.keys(counts).sort()).toEqual(['200', '401']);
      // The direct limiter was idle: its first call waits out the timeout, then falls back.
      await direct.consume('frozen|ip:1', rateRules.default);
      await waitForStore('memory');
      for (const server of [first(), second()]) {
        expect((await health(server)).body).toMatchObject({ status: 'degraded', rateLimits: { store: 'memory' } });
      }
      expect(logger.warn).toHaveBeenCalledTimes(2);
      redis.thaw();
      thawed = true;
      await waitForStore('redis');
      expect(logger.info).toHaveBeenCalledTimes(2);
    } finally {
      if (!thawed) redis.thaw();
    }
  });
});
