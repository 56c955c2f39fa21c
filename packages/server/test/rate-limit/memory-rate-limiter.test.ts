import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../src/rate-limit/memory-rate-limiter.js';
import type { RateRule } from '../../src/rate-limit/rate-limiter.js';
import { rateLimiterContract } from './rate-limiter-contract.js';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(startMs = 1_000_000) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
    set: (ms: number) => {
      nowMs = ms;
    },
  };
}

describe('createMemoryRateLimiter', () => {
  const shared = createMemoryRateLimiter({ now: manualClock().now });
  rateLimiterContract(
    () => shared,
    (name) => name,
  );

  it('refills continuously at refillPerSecond and reports the exact whole seconds to wait', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const rule: RateRule = { capacity: 3, refillPerSecond: 0.5 };
    for (let i = 0; i < 3; i++) expect((await limiter.consume('k', rule)).allowed).toBe(true);

    expect(await limiter.consume('k', rule)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 2 });
    clock.advance(1000); // half a token
    expect(await limiter.consume('k', rule)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    clock.advance(999); // 0.9995 tokens: a whisker short, and the wait still rounds up to 1 s
    expect(await limiter.consume('k', rule)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    clock.advance(1); // exactly one token
    expect(await limiter.consume('k', rule)).toEqual({ allowed: true, remaining: 0, retryAfterSeconds: 0 });
    expect(await limiter.consume('k', rule)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 2 });
  });

  it('gets per-minute rules exact despite 1/6 not being exact in binary', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const tenPerMinute: RateRule = { capacity: 10, refillPerSecond: 10 / 60 };
    for (let i = 0; i < 10; i++) await limiter.consume('k', tenPerMinute);

    expect(await limiter.consume('k', tenPerMinute)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 6 });
    clock.advance(5999);
    expect((await limiter.consume('k', tenPerMinute)).allowed).toBe(false);
    clock.advance(1); // exactly the Retry-After a client was given: it must get in
    expect((await limiter.consume('k', tenPerMinute)).allowed).toBe(true);
    for (let step = 0; step < 9; step++) {
      clock.advance(6000);
      expect((await limiter.consume('k', tenPerMinute)).allowed).toBe(true);
    }
  });

  it('refills no further than capacity however long the bucket sat idle', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const rule: RateRule = { capacity: 2, refillPerSecond: 1 };
    await limiter.consume('k', rule);
    clock.advance(24 * 60 * 60 * 1000);
    expect(await limiter.consume('k', rule)).toEqual({ allowed: true, remaining: 1, retryAfterSeconds: 0 });
    expect(await limiter.consume('k', rule)).toEqual({ allowed: true, remaining: 0, retryAfterSeconds: 0 });
    expect((await limiter.consume('k', rule)).allowed).toBe(false);
  });

  it('mints no tokens when the clock steps backwards, and does not count the same interval twice', async () => {
    const clock = manualClock(100_000);
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const rule: RateRule = { capacity: 1, refillPerSecond: 1 };
    await limiter.consume('k', rule);
    clock.set(50_000);
    expect(await limiter.consume('k', rule)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    clock.set(100_500); // half a second after the token was taken
    expect((await limiter.consume('k', rule)).allowed).toBe(false);
    clock.set(101_000);
    expect((await limiter.consume('k', rule)).allowed).toBe(true);
  });

  describe('memory stays bounded', () => {
    it('holds at most maxKeys buckets (default 100 000) under 200 000 distinct keys', async () => {
      const limiter = createMemoryRateLimiter({ now: manualClock().now }); // frozen: no bucket ever refills
      const rule: RateRule = { capacity: 5, refillPerSecond: 1 };
      let largest = 0;
      for (let i = 0; i < 200_000; i++) {
        await limiter.consume(`flood:${i}`, rule);
        largest = Math.max(largest, limiter.size);
      }
      expect(largest).toBe(100_000);
      expect(limiter.size).toBe(100_000);
    });

    it('forgets the least recently used bucket first, keeping the state of recently used ones', async () => {
      const limiter = createMemoryRateLimiter({ now: manualClock().now, maxKeys: 3 });
      const once: RateRule = { capacity: 1, refillPerSecond: 0.001 };
      await limiter.consume('a', once);
      await limiter.consume('b', once);
      await limiter.consume('c', once);
      expect((await limiter.consume('a', once)).allowed).toBe(false); // a is now the most recent
      await limiter.consume('d', once); // pushes out b, the least recently used

      expect(limiter.size).toBe(3);
      expect((await limiter.consume('a', once)).allowed).toBe(false); // still remembered as empty
      expect((await limiter.consume('b', once)).allowed).toBe(true); // forgotten, so full again
    });

    it('drops buckets that have refilled completely, since a new bucket would be the same', async () => {
      const clock = manualClock();
      const limiter = createMemoryRateLimiter({ now: clock.now });
      const rule: RateRule = { capacity: 2, refillPerSecond: 1 }; // one token back per second
      for (let i = 0; i < 1000; i++) await limiter.consume(`old:${i}`, rule);
      expect(limiter.size).toBe(1000);
      clock.advance(1000); // every old bucket is full again
      for (let i = 0; i < 1000; i++) await limiter.consume(`new:${i}`, rule);
      expect(limiter.size).toBe(1000);
    });

    it('refuses a maxKeys that is not a positive whole number', () => {
      expect(() => createMemoryRateLimiter({ maxKeys: 0 })).toThrow(RangeError);
      expect(() => createMemoryRateLimiter({ maxKeys: 1.5 })).toThrow(RangeError);
    });
  });
});
