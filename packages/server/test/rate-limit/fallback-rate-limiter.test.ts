import { afterEach, describe, expect, it, vi } from 'vitest';
import { withMemoryFallback } from '../../src/rate-limit/fallback-rate-limiter.js';
import { createMemoryRateLimiter } from '../../src/rate-limit/memory-rate-limiter.js';
import type { RateLimiter, RateRule } from '../../src/rate-limit/rate-limiter.js';

const noRefill = (capacity: number): RateRule => ({ capacity, refillPerSecond: 0.0001 });

/** A stand-in for the Redis limiter: counts calls, and fails while `down` is set. */
function fakeShared() {
  const buckets = createMemoryRateLimiter();
  const state = { down: false, calls: 0, closed: false };
  const limiter: RateLimiter = {
    async consume(key, rule) {
      state.calls++;
      if (state.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6390');
      return buckets.consume(key, rule);
    },
    async close() {
      state.closed = true;
    },
  };
  return { limiter, state };
}

describe('withMemoryFallback', () => {
  const opened: RateLimiter[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((limiter) => limiter.close()));
  });

  function fallbackOver(shared: RateLimiter, probeIntervalMs = 10) {
    const onFallback = vi.fn();
    const onRecovery = vi.fn();
    const limiter = withMemoryFallback(shared, { probeIntervalMs, onFallback, onRecovery });
    opened.push(limiter);
    return { limiter, onFallback, onRecovery };
  }

  it('decides with the shared limiter while it answers', async () => {
    const { limiter: shared, state } = fakeShared();
    const { limiter, onFallback } = fallbackOver(shared);
    expect(await limiter.consume('a|ip:1', noRefill(2))).toMatchObject({ allowed: true, remaining: 1 });
    expect(state.calls).toBe(1);
    expect(limiter.status?.()).toEqual({ store: 'redis', degraded: false });
    expect(onFallback).not.toHaveBeenCalled();
  });

  it('answers from memory when the shared limiter fails, reporting the switch once, not per request', async () => {
    const { limiter: shared, state } = fakeShared();
    const { limiter, onFallback } = fallbackOver(shared);
    state.down = true;
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => limiter.consume(`k${i}|ip:1`, noRefill(1))),
    );
    expect(decisions.every((decision) => decision.allowed)).toBe(true);
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback.mock.calls[0]?.[0]).toBeInstanceOf(Error);
    expect(limiter.status?.()).toEqual({ store: 'memory', degraded: true });
  });

  it('once fallen back, sends requests straight to memory, not to the failing limiter', async () => {
    const { limiter: shared, state } = fakeShared();
    // No probe during this test: every call the fake sees would be a request's.
    const { limiter } = fallbackOver(shared, 60_000);
    state.down = true;
    await limiter.consume('first|ip:1', noRefill(1));
    expect(state.calls).toBe(1);
    for (let i = 0; i < 50; i++) await limiter.consume(`later${i}|ip:1`, noRefill(1));
    expect(state.calls).toBe(1);
  });

  it('keeps applying the same rules in memory: capacity 3 refuses the fourth', async () => {
    const { limiter: shared, state } = fakeShared();
    const { limiter } = fallbackOver(shared);
    state.down = true;
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.consume('tight|ip:1', noRefill(3)));
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('goes back to the shared limiter once a probe succeeds, reporting it once', async () => {
    const { limiter: shared, state } = fakeShared();
    const { limiter, onFallback, onRecovery } = fallbackOver(shared);
    state.down = true;
    await limiter.consume('a|ip:1', noRefill(1));
    // Failing probes keep it on memory and report nothing more.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(limiter.status?.()).toEqual({ store: 'memory', degraded: true });
    expect(onRecovery).not.toHaveBeenCalled();

    state.down = false;
    await vi.waitFor(() => expect(limiter.status?.()).toEqual({ store: 'redis', degraded: false }));
    expect(onRecovery).toHaveBeenCalledTimes(1);
    expect(onFallback).toHaveBeenCalledTimes(1);
    const callsBefore = state.calls;
    await limiter.consume('b|ip:1', noRefill(1));
    expect(state.calls).toBe(callsBefore + 1);
  });

  it('falls back again on a second outage, and reports each switch', async () => {
    const { limiter: shared, state } = fakeShared();
    const { limiter, onFallback, onRecovery } = fallbackOver(shared);
    for (let outage = 1; outage <= 2; outage++) {
      state.down = true;
      await limiter.consume('a|ip:1', noRefill(5));
      expect(onFallback).toHaveBeenCalledTimes(outage);
      state.down = false;
      await vi.waitFor(() => expect(limiter.status?.()?.store).toBe('redis'));
      expect(onRecovery).toHaveBeenCalledTimes(outage);
    }
  });

  it('stops probing when closed, and closes both limiters', async () => {
    const { limiter: shared, state } = fakeShared();
    const fallback = createMemoryRateLimiter();
    const close = vi.spyOn(fallback, 'close');
    const limiter = withMemoryFallback(shared, { fallback, probeIntervalMs: 10 });
    state.down = true;
    await limiter.consume('a|ip:1', noRefill(1));
    await limiter.close();
    const callsAtClose = state.calls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.calls).toBe(callsAtClose);
    expect(state.closed).toBe(true);
    expect(close).toHaveBeenCalled();
  });

  it('refuses a probe interval that is not a positive number', () => {
    const { limiter: shared } = fakeShared();
    expect(() => withMemoryFallback(shared, { probeIntervalMs: 0 })).toThrow(/probeIntervalMs/);
  });
});
