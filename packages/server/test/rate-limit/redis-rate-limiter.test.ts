import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimiter, RateRule } from '../../src/rate-limit/rate-limiter.js';
import { createRedisRateLimiter } from '../../src/rate-limit/redis-rate-limiter.js';
import { rateLimiterContract } from './rate-limiter-contract.js';

// These tests need a Redis and run only when REDIS_URL points at one, e.g.
// `REDIS_URL=redis://127.0.0.1:6379 npx vitest run --project server test/rate-limit`; without
// it they are skipped (and the memory limiter's tests still hold the algorithm to account).
const redisUrl = process.env.REDIS_URL ?? '';

// The script reads Redis's clock, which a test cannot move; every rule here refills so slowly
// (a token per ~17 minutes or slower) that no token returns mid-test, and the tests assert counts.
const noRefill = (capacity: number): RateRule => ({ capacity, refillPerSecond: 0.001 });

describe.runIf(Boolean(redisUrl))('createRedisRateLimiter', () => {
  // A prefix of this run's own: parallel runs on one Redis never share a bucket, and clean-up
  // deletes exactly what this run made.
  const keyPrefix = `plinth:rl:test:${randomUUID()}:`;
  let first: RateLimiter;
  let second: RateLimiter;
  let admin: Redis;

  beforeAll(() => {
    first = createRedisRateLimiter(redisUrl, { keyPrefix });
    second = createRedisRateLimiter(redisUrl, { keyPrefix });
    admin = new Redis(redisUrl);
  });

  afterAll(async () => {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await Promise.all([first.close(), second.close()]);
    await admin.quit();
  });

  rateLimiterContract(
    () => first,
    (name) => `contract:${name}`,
  );

  it('shares one bucket between two instances (two connections): the point of Redis', async () => {
    const rule = noRefill(4);
    expect(await first.consume('shared', rule)).toMatchObject({ allowed: true, remaining: 3 });
    expect(await second.consume('shared', rule)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await first.consume('shared', rule)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await second.consume('shared', rule)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await first.consume('shared', rule)).allowed).toBe(false);
    expect((await second.consume('shared', rule)).allowed).toBe(false);
  });

  it('stays atomic under a simultaneous burst from both instances', async () => {
    const rule = noRefill(25);
    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? first : second).consume('stampede', rule)),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(25);
  });

  it('stores buckets under its prefix with a TTL of the time until full, so idle buckets expire', async () => {
    const rule = noRefill(3); // a token back every 1000 s
    await first.consume('ttl', rule);
    await first.consume('ttl', rule);
    const ttlMs = await admin.pttl(`${keyPrefix}ttl`);
    // Two tokens short of full: 2000 s, less the little real time that has passed.
    expect(ttlMs).toBeLessThanOrEqual(2_000_000);
    expect(ttlMs).toBeGreaterThan(2_000_000 - 60_000);
  });

  it('writes nothing for a refused request', async () => {
    const rule = noRefill(1);
    await first.consume('refused', rule);
    const before = await admin.hgetall(`${keyPrefix}refused`);
    expect((await first.consume('refused', rule)).allowed).toBe(false);
    expect(await admin.hgetall(`${keyPrefix}refused`)).toEqual(before);
  });

  it('uses the default prefix plinth:rl: when given none', async () => {
    const limiter = createRedisRateLimiter(redisUrl);
    const key = `test:${randomUUID()}`;
    try {
      await limiter.consume(key, noRefill(2));
      expect(await admin.exists(`plinth:rl:${key}`)).toBe(1);
    } finally {
      await admin.del(`plinth:rl:${key}`);
      await limiter.close();
    }
  });

  it('decides in memory, still limiting, when Redis is unreachable (redis-outage.test.ts covers the outage)', async () => {
    const limiter = createRedisRateLimiter('redis://127.0.0.1:1', { keyPrefix, commandTimeoutMs: 500 });
    try {
      expect((await limiter.consume('unreachable', noRefill(1))).allowed).toBe(true);
      expect((await limiter.consume('unreachable', noRefill(1))).allowed).toBe(false);
      expect(limiter.status?.()).toEqual({ store: 'memory', degraded: true });
    } finally {
      await limiter.close();
    }
  });
});
