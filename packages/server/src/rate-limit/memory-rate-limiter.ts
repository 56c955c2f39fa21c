import type { RateDecision, RateLimiter, RateLimitStatus, RateRule } from './rate-limiter.js';
import { takeToken } from './token-bucket.js';

/** Options of {@link createMemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /** The clock, in milliseconds. Default `Date.now`; tests inject their own. */
  now?: () => number;
  /**
   * The most buckets kept at once. Beyond it the least recently used bucket is forgotten, so a
   * flood of distinct keys costs bounded memory (about 250 bytes a bucket with its key: 100 000 ≈ 25 MB).
   * Default 100 000.
   */
  maxKeys?: number;
}

/** The in-memory limiter, with its bucket count visible for tests and metrics. */
export interface MemoryRateLimiter extends RateLimiter {
  /** Buckets held now; never more than `maxKeys`. */
  readonly size: number;
}

/** A bucket, also a link in the recency list (oldest first). */
interface StoredBucket {
  readonly key: string;
  tokens: number;
  updatedAtMs: number;
  fullAtMs: number;
  older: StoredBucket | undefined;
  newer: StoredBucket | undefined;
}

// Each consume adds at most one bucket, so inspecting two of the oldest per call lets the list
// shrink whenever idle buckets have refilled, without ever scanning all of it.
const oldestInspectedPerCall = 2;

/**
 * Token buckets in this process's memory: the default, right for a single instance. Several
 * instances each keep their own buckets, which multiplies every limit by the instance count;
 * use {@link createRedisRateLimiter} for them.
 *
 * Memory is bounded two ways. A bucket that has refilled completely carries no information (a
 * new bucket starts full), so the oldest buckets are dropped as they become full. And past
 * `maxKeys` the least recently used bucket is dropped even if not full; that client then starts
 * from a full bucket, a bounded leniency preferred over unbounded memory.
 *
 * @example
 * ```ts
 * const limiter = createMemoryRateLimiter();
 * const { allowed, retryAfterSeconds } = await limiter.consume('auth.signIn|ip:203.0.113.7', {
 *   capacity: 10,
 *   refillPerSecond: 10 / 60,
 * });
 * ```
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): MemoryRateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(`maxKeys must be a whole number ≥ 1, got ${maxKeys}.`);
  }
  // Recency is kept in a linked list of our own rather than by re-inserting into the Map (which
  // iterates in insertion order): V8 leaves a hole for every deleted Map entry until it rehashes,
  // and iterating from the oldest end walks all of them, so a flood of new keys went quadratic.
  const buckets = new Map<string, StoredBucket>();
  let oldest: StoredBucket | undefined;
  let newest: StoredBucket | undefined;

  const unlink = (bucket: StoredBucket): void => {
    if (bucket.older) bucket.older.newer = bucket.newer;
    else oldest = bucket.newer;
    if (bucket.newer) bucket.newer.older = bucket.older;
    else newest = bucket.older;
    bucket.older = undefined;
    bucket.newer = undefined;
  };

  const markNewest = (bucket: StoredBucket): void => {
    bucket.older = newest;
    if (newest) newest.newer = bucket;
    else oldest = bucket;
    newest = bucket;
  };

  const forget = (bucket: StoredBucket): void => {
    unlink(bucket);
    buckets.delete(bucket.key);
  };

  const forgetOldest = (nowMs: number): void => {
    for (let inspected = 0; inspected < oldestInspectedPerCall && oldest && oldest.fullAtMs <= nowMs; inspected++) {
      forget(oldest);
    }
    while (buckets.size > maxKeys && oldest) forget(oldest);
  };

  return {
    async consume(key: string, rule: RateRule): Promise<RateDecision> {
      const nowMs = now();
      const existing = buckets.get(key);
      const step = takeToken(existing, rule, nowMs);
      const bucket: StoredBucket = existing ?? {
        key,
        tokens: 0,
        updatedAtMs: 0,
        fullAtMs: 0,
        older: undefined,
        newer: undefined,
      };
      bucket.tokens = step.state.tokens;
      bucket.updatedAtMs = step.state.updatedAtMs;
      bucket.fullAtMs = step.fullAtMs;
      if (existing) unlink(existing);
      else buckets.set(key, bucket);
      markNewest(bucket);
      forgetOldest(nowMs);
      return step.decision;
    },
    async close(): Promise<void> {
      buckets.clear();
      oldest = undefined;
      newest = undefined;
    },
    status(): RateLimitStatus {
      return { store: 'memory', degraded: false };
    },
    get size() {
      return buckets.size;
    },
  };
}
