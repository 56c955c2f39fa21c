/** How the transport retries calls that are safe to repeat. */
export interface RetryOptions {
  /** Retries after the first attempt, at most. Default 10. */
  limit?: number;
  /** The backoff ceiling of the first retry, in ms; it doubles each retry. Default 500. */
  baseDelay?: number;
  /** The largest backoff, in ms. Default 10 000. */
  maxDelay?: number;
  /**
   * The longest `Retry-After` the SDK will wait, in ms. When the server asks for more, the call
   * fails at once with the error (its `retryAfter` says how long) instead of hanging. The wait
   * must also end within `maxElapsed`, so this matters only with a larger budget. Default 60 000.
   */
  maxRetryAfter?: number;
  /**
   * The retry budget, in ms from the start of the call's first attempt: no wait ends later. A
   * backoff is shortened to end on time; a `Retry-After` that would end later fails the call at
   * once. So an outage shorter than this (a database restart) is ridden out, and a call that
   * keeps failing ends about this long after it started (plus its last attempt). Default 10 000.
   */
  maxElapsed?: number;
}

/** Statuses worth another try: the request did not run, or may succeed a moment later. */
export const retryableStatuses: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/** A retry policy with every default filled in; `limit: 0` never retries. */
export type RetryPolicy = Required<RetryOptions>;

/**
 * Fills in the defaults; `false` turns retries off.
 *
 * @example
 * ```ts
 * resolveRetryPolicy({ limit: 5 }).maxElapsed; // 10000
 * resolveRetryPolicy(false).limit; // 0
 * ```
 */
export function resolveRetryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  return {
    limit: 10,
    baseDelay: 500,
    maxDelay: 10_000,
    maxRetryAfter: 60_000,
    maxElapsed: 10_000,
    ...(options === false ? { limit: 0 } : options),
  };
}

/**
 * The wait before retry number `retry` (1-based): exponential backoff with full jitter, a random
 * time between 0 and `min(maxDelay, baseDelay * 2^(retry-1))`, so that many clients failing
 * together do not come back together.
 *
 * @example
 * ```ts
 * backoffDelay(resolveRetryPolicy({}), 3); // somewhere in [0, 2000)
 * ```
 */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.random() * Math.min(policy.maxDelay, policy.baseDelay * 2 ** (retry - 1));
}
