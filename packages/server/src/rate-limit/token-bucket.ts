import { type RateDecision, type RateRule, tokenEpsilon } from './rate-limiter.js';

/** A bucket as stored between requests. */
export interface BucketState {
  /** Tokens held at `updatedAtMs`, fractions included. */
  readonly tokens: number;
  /** When `tokens` was last brought up to date, in milliseconds. */
  readonly updatedAtMs: number;
}

/** One request's effect on a bucket. */
export interface BucketStep {
  readonly state: BucketState;
  readonly decision: RateDecision;
  /**
   * When the bucket will be full again. From then on it is indistinguishable from a bucket never
   * used, so a store may forget it (memory eviction, Redis TTL) without changing any decision.
   */
  readonly fullAtMs: number;
}

/**
 * The token-bucket step: refill for the time elapsed, then take one token if there is one. Pure,
 * so the in-memory limiter and its tests share it; `redis-rate-limiter.ts` runs the same steps
 * in Lua and the shared behaviour tests hold both to it.
 *
 * @example
 * ```ts
 * const rule = { capacity: 2, refillPerSecond: 1 };
 * const first = takeToken(undefined, rule, 0); // allowed, remaining 1
 * const second = takeToken(first.state, rule, 0); // allowed, remaining 0
 * takeToken(second.state, rule, 0).decision; // { allowed: false, remaining: 0, retryAfterSeconds: 1 }
 * ```
 */
export function takeToken(previous: BucketState | undefined, rule: RateRule, nowMs: number): BucketStep {
  const { capacity, refillPerSecond } = rule;
  // A clock that steps backwards (NTP, a test) must neither mint tokens nor rewind the bucket,
  // else the next forward step would count the same interval twice.
  const updatedAtMs = previous ? Math.max(previous.updatedAtMs, nowMs) : nowMs;
  const elapsedMs = previous ? Math.max(0, nowMs - previous.updatedAtMs) : 0;
  let tokens = previous ? Math.min(capacity, previous.tokens + (elapsedMs / 1000) * refillPerSecond) : capacity;

  let decision: RateDecision;
  if (tokens + tokenEpsilon >= 1) {
    tokens = Math.max(0, tokens - 1);
    decision = { allowed: true, remaining: Math.floor(tokens + tokenEpsilon), retryAfterSeconds: 0 };
  } else {
    const secondsToOneToken = (1 - tokens) / refillPerSecond;
    decision = {
      allowed: false,
      remaining: 0,
      retryAfterSeconds: Math.max(1, Math.ceil(secondsToOneToken - tokenEpsilon)),
    };
  }
  const fullAtMs = updatedAtMs + ((capacity - tokens) / refillPerSecond) * 1000;
  return { state: { tokens, updatedAtMs }, decision, fullAtMs };
}
