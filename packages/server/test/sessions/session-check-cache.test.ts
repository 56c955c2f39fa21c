import { describe, expect, it } from 'vitest';
import type { UserCaller } from '../../src/http/caller.js';
import { createSessionCheckCache } from '../../src/sessions/session-check-cache.js';

const ada: UserCaller = { kind: 'user', userId: 'u-ada', sessionId: 's-ada-1' };
const adaPhone: UserCaller = { kind: 'user', userId: 'u-ada', sessionId: 's-ada-2' };
const bob: UserCaller = { kind: 'user', userId: 'u-bob', sessionId: 's-bob-1' };
const farFuture = Number.MAX_SAFE_INTEGER;

function liveCache(options: Parameters<typeof createSessionCheckCache>[0] = {}) {
  const cache = createSessionCheckCache(options);
  cache.setLive(true);
  return cache;
}

describe('the session-check cache', () => {
  it('remembers a check until the TTL, then forgets it', () => {
    let now = 1_000;
    const cache = liveCache({ ttlMs: 2_000, now: () => now });
    cache.remember('token-a', ada, farFuture, cache.epoch());
    expect(cache.recall('token-a')).toBe(ada);
    now += 1_999;
    expect(cache.recall('token-a')).toBe(ada);
    now += 1;
    expect(cache.recall('token-a')).toBeUndefined();
  });

  it('never keeps an answer past the token’s own expiry', () => {
    let now = 1_000;
    const cache = liveCache({ ttlMs: 60_000, now: () => now });
    cache.remember('token-a', ada, 1_500, cache.epoch());
    now = 1_499;
    expect(cache.recall('token-a')).toBe(ada);
    now = 1_500;
    expect(cache.recall('token-a')).toBeUndefined();
  });

  it('forgets one session, or every session of a user, and nobody else', () => {
    const cache = liveCache();
    cache.remember('a1', ada, farFuture, cache.epoch());
    cache.remember('a2', adaPhone, farFuture, cache.epoch());
    cache.remember('b1', bob, farFuture, cache.epoch());
    cache.forgetSession('s-ada-1');
    expect([cache.recall('a1'), cache.recall('a2'), cache.recall('b1')]).toEqual([undefined, adaPhone, bob]);
    cache.forgetUser('u-ada');
    expect([cache.recall('a2'), cache.recall('b1')]).toEqual([undefined, bob]);
  });

  it('applies the database’s notifications: s:<session>, u:<user>, anything else forgets all', () => {
    const cache = liveCache();
    cache.remember('a1', ada, farFuture, cache.epoch());
    cache.remember('b1', bob, farFuture, cache.epoch());
    cache.applyNotification('s:s-ada-1');
    expect(cache.recall('a1')).toBeUndefined();
    cache.applyNotification('u:u-bob');
    expect(cache.recall('b1')).toBeUndefined();
    cache.remember('b1', bob, farFuture, cache.epoch());
    cache.applyNotification('something-newer');
    expect(cache.size).toBe(0);
  });

  it('does not remember a check that raced a revocation (read before, answered after)', () => {
    const cache = liveCache();
    const readAt = cache.epoch(); // the database read starts…
    cache.forgetSession('s-ada-1'); // …a revocation lands while it runs…
    cache.remember('a1', ada, farFuture, readAt); // …and its stale answer arrives.
    expect(cache.recall('a1')).toBeUndefined();
  });

  it('remembers nothing while the notification channel is down, and drops what it had', () => {
    const cache = createSessionCheckCache();
    cache.remember('a1', ada, farFuture, cache.epoch());
    expect(cache.recall('a1')).toBeUndefined();
    cache.setLive(true);
    cache.remember('a1', ada, farFuture, cache.epoch());
    expect(cache.recall('a1')).toBe(ada);
    cache.setLive(false);
    expect(cache.recall('a1')).toBeUndefined();
    cache.remember('a1', ada, farFuture, cache.epoch());
    expect(cache.size).toBe(0);
  });

  it('forgets by session and by user through its indexes, also after entries were replaced or dropped', () => {
    const cache = liveCache({ maxEntries: 2 });
    cache.remember('a1', ada, farFuture, cache.epoch());
    cache.remember('a1', adaPhone, farFuture, cache.epoch()); // the same token again: replaced
    cache.remember('b1', bob, farFuture, cache.epoch());
    cache.remember('a2', ada, farFuture, cache.epoch()); // over the cap: a1 (the oldest) goes
    cache.forgetSession('s-ada-2');
    expect([cache.recall('a1'), cache.recall('a2'), cache.recall('b1')]).toEqual([undefined, ada, bob]);
    cache.forgetUser('u-ada');
    expect([cache.recall('a2'), cache.recall('b1')]).toEqual([undefined, bob]);
    expect(cache.size).toBe(1);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = liveCache({ maxEntries: 2 });
    cache.remember('a1', ada, farFuture, cache.epoch());
    cache.remember('a2', adaPhone, farFuture, cache.epoch());
    cache.remember('b1', bob, farFuture, cache.epoch());
    expect(cache.size).toBe(2);
    expect([cache.recall('a1'), cache.recall('a2'), cache.recall('b1')]).toEqual([undefined, adaPhone, bob]);
  });
});
