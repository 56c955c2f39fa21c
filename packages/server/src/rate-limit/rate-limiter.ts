/**
 * A token bucket's shape: it holds at most `capacity` tokens and gains `refillPerSecond` tokens
 * per second, continuously (fractions included), up to the capacity. Each request takes one.
 * So `capacity` is the burst a client may make at once and `refillPerSecond` its sustained rate.
 */
export interface RateRule {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** The outcome of one request against a bucket. */
export interface RateDecision {
  /** Whether the request may proceed (a token was taken). */
  readonly allowed: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /**
   * Whole seconds, rounded up, until the bucket next holds a token: 0 when allowed, at least 1
   * when refused, so a client that waits exactly this long is let through.
   */
  readonly retryAfterSeconds: number;
}

/** Where a limiter keeps its buckets right now: what `GET /v1/health` reports. */
export interface RateLimitStatus {
  /** `redis`: one count shared by every instance; `memory`: this instance's own count. */
  readonly store: 'redis' | 'memory';
  /**
   * True while a limiter meant to share its buckets through Redis decides in memory because
   * Redis does not answer: each instance then limits on its own, so N instances allow N times a limit.
   */
  readonly degraded: boolean;
}

/** Where token buckets live: this process's memory, or Redis when several instances share limits. */
export interface RateLimiter {
  /** Takes one token from the bucket `key` (created full on first use) under `rule`. */
  consume(key: string, rule: RateRule): Promise<RateDecision>;
  /** Releases what the limiter holds (connections); it must not be used afterwards. */
  close(): Promise<void>;
  /** Where the buckets are kept now. Optional, so a stand-in limiter (tests) need not say; health then leaves it out. */
  status?(): RateLimitStatus;
}

/**
 * Refill arithmetic runs on binary floating point, where a rate such as 10 per minute (1/6 per
 * second) is not exact: after exactly the right wait a bucket can come out a hair short of one
 * token and refuse with a one-second retry. Amounts within this margin count as whole.
 */
export const tokenEpsilon = 1e-9;

/**
 * Checks a rule at configuration time, so a typo fails at start-up rather than letting every
 * request through (a NaN capacity compares false everywhere) or refusing them all.
 *
 * @example
 * ```ts
 * assertValidRule('auth.signIn', { capacity: 10, refillPerSecond: 10 / 60 }); // fine
 * assertValidRule('auth.signIn', { capacity: 0, refillPerSecond: 1 }); // throws RangeError
 * ```
 */
export function assertValidRule(name: string, rule: RateRule): void {
  if (!Number.isInteger(rule.capacity) || rule.capacity < 1) {
    throw new RangeError(`Rate rule ${name}: capacity must be a whole number ≥ 1, got ${rule.capacity}.`);
  }
  if (!Number.isFinite(rule.refillPerSecond) || rule.refillPerSecond <= 0) {
    throw new RangeError(
      `Rate rule ${name}: refillPerSecond must be a finite number > 0, got ${rule.refillPerSecond}.`,
    );
  }
}
