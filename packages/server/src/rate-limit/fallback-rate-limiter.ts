import { createMemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateDecision, RateLimiter, RateLimitStatus, RateRule } from './rate-limiter.js';

/** Options of {@link withMemoryFallback}. */
export interface MemoryFallbackOptions {
  /** Decides while the shared limiter cannot. Default a fresh `createMemoryRateLimiter()`. */
  fallback?: RateLimiter;
  /** How often, while on the fallback, the shared limiter is tried again, in ms. Default 1000. */
  probeIntervalMs?: number;
  /** Called once when decisions move to the fallback, with the failure that moved them (log a warning). */
  onFallback?: (error: Error) => void;
  /** Called once when decisions move back to the shared limiter (log it). */
  onRecovery?: () => void;
}

// Every bucket key a request makes holds a `|` (see rateLimitKey), so this one is never a client's.
const probeKey = 'fallback-probe';
// Refills within a millisecond: the probe never refuses and its bucket expires at once.
const probeRule: RateRule = { capacity: 1, refillPerSecond: 1000 };

/**
 * A shared limiter (Redis) that falls back to this instance's memory while it fails, so an
 * outage of the shared store costs shared counting, never a request: every route keeps answering,
 * each instance enforcing the same rules on its own (N instances allow up to N times a limit).
 *
 * The first failed or timed-out call switches all later decisions to memory at once, so only the
 * requests already waiting on the shared limiter wait out its timeout. While on memory, a probe
 * (one at a time, every `probeIntervalMs`, off the request path) takes a token from a bucket of
 * its own through the shared limiter: the very call requests make, so a store that answers but
 * refuses writes (a read-only replica, out of memory) does not count as back. The first probe
 * that succeeds switches decisions back. Each switch is reported once, never per request.
 *
 * @example
 * ```ts
 * const limiter = withMemoryFallback(redisOnlyLimiter, {
 *   onFallback: (error) => logger.warn({ err: { message: error.message } }, 'rate limits: Redis does not answer'),
 *   onRecovery: () => logger.info('rate limits: Redis answers again'),
 * });
 * limiter.status?.(); // { store: 'redis', degraded: false }, or { store: 'memory', degraded: true } during an outage
 * ```
 */
export function withMemoryFallback(shared: RateLimiter, options: MemoryFallbackOptions = {}): RateLimiter {
  const fallback = options.fallback ?? createMemoryRateLimiter();
  const probeIntervalMs = options.probeIntervalMs ?? 1000;
  if (!Number.isFinite(probeIntervalMs) || probeIntervalMs <= 0) {
    throw new RangeError(`probeIntervalMs must be a number of milliseconds > 0, got ${probeIntervalMs}.`);
  }
  let onShared = true;
  let probeTimer: NodeJS.Timeout | undefined;
  let probing = false;
  let closed = false;

  const probe = (): void => {
    if (probing || onShared || closed) return;
    probing = true;
    shared.consume(probeKey, probeRule).then(
      () => {
        probing = false;
        if (onShared || closed) return;
        onShared = true;
        clearInterval(probeTimer);
        probeTimer = undefined;
        options.onRecovery?.();
      },
      () => {
        probing = false;
      },
    );
  };

  const switchToFallback = (error: unknown): void => {
    if (!onShared || closed) return;
    onShared = false;
    // Unref'd: a probe must never keep a process alive that is otherwise done.
    probeTimer = setInterval(probe, probeIntervalMs).unref();
    options.onFallback?.(error instanceof Error ? error : new Error(String(error)));
  };

  return {
    async consume(key: string, rule: RateRule): Promise<RateDecision> {
      if (onShared) {
        try {
          return await shared.consume(key, rule);
        } catch (error) {
          switchToFallback(error);
        }
      }
      return fallback.consume(key, rule);
    },
    async close(): Promise<void> {
      closed = true;
      clearInterval(probeTimer);
      await Promise.all([shared.close(), fallback.close()]);
    },
    status(): RateLimitStatus {
      return onShared ? { store: 'redis', degraded: false } : { store: 'memory', degraded: true };
    },
  };
}
