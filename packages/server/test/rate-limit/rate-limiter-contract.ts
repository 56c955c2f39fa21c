import { describe, expect, it } from 'vitest';
import type { RateLimiter, RateRule } from '../../src/rate-limit/rate-limiter.js';

// So slow that no token comes back while a test runs, whatever the clock does: the contract
// below asserts counts only, which holds for limiters whose time the test does not control
// (Redis reads its own clock).
const noRefill = (capacity: number): RateRule => ({ capacity, refillPerSecond: 0.0001 });
const secondsForOneToken = 10_000;

/**
 * The behaviour every RateLimiter owes, independent of time. `limiter()` returns the limiter
 * under test; `key(name)` a key unique to this run, so runs never see each other's buckets.
 */
export function rateLimiterContract(limiter: () => RateLimiter, key: (name: string) => string): void {
  describe('the RateLimiter contract', () => {
    it('allows exactly `capacity` requests on a fresh bucket, counting `remaining` down to 0', async () => {
      const bucket = key('capacity');
      const decisions = [];
      for (let i = 0; i < 5; i++) decisions.push(await limiter().consume(bucket, noRefill(4)));
      expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      expect(decisions.slice(0, 4).every((d) => d.retryAfterSeconds === 0)).toBe(true);
    });

    it('keeps refusing once empty and says how long until a token returns (≥ 1 s)', async () => {
      const bucket = key('refuse');
      await limiter().consume(bucket, noRefill(1));
      for (let i = 0; i < 3; i++) {
        const refused = await limiter().consume(bucket, noRefill(1));
        expect(refused.allowed).toBe(false);
        // The wait is 1 / refillPerSecond less whatever real time has passed since the token
        // was taken: a few seconds of slack cover a slow machine without losing the point.
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(secondsForOneToken);
        expect(refused.retryAfterSeconds).toBeGreaterThan(secondsForOneToken - 30);
      }
    });

    it('keeps buckets apart: emptying one key leaves another full', async () => {
      const first = key('apart-1');
      const second = key('apart-2');
      await limiter().consume(first, noRefill(2));
      await limiter().consume(first, noRefill(2));
      expect((await limiter().consume(first, noRefill(2))).allowed).toBe(false);
      expect(await limiter().consume(second, noRefill(2))).toEqual({
        allowed: true,
        remaining: 1,
        retryAfterSeconds: 0,
      });
    });

    it('lets no more than `capacity` through when requests arrive all at once', async () => {
      const bucket = key('burst');
      const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter().consume(bucket, noRefill(7))));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(7);
      expect(
        decisions
          .filter((d) => d.allowed)
          .map((d) => d.remaining)
          .sort((a, b) => a - b),
      ).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });
  });
}
