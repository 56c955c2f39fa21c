import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { withMemoryFallback } from './fallback-rate-limiter.js';
import { type RateDecision, type RateLimiter, type RateRule, tokenEpsilon } from './rate-limiter.js';

/** Options of {@link createRedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /** Put before every bucket key, so rate limits share a Redis with other data safely. Default `plinth:rl:`. */
  keyPrefix?: string;
  /**
   * Where the limiter says that it fell back to memory (warn, once per outage) and that Redis
   * answers again (info, once). ioredis's own reconnection errors, one every few seconds during an
   * outage, go to debug. Default: nothing is logged.
   */
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /**
   * How long one request waits for Redis before it is decided in memory, in ms. Default 500: Redis
   * answers in about a millisecond, and every route (health checks too) waits this long at the
   * start of a freeze, before the limiter has switched to memory.
   */
  commandTimeoutMs?: number;
}

// Redis can forget a bucket once it has refilled (a new bucket starts full, so nothing changes),
// hence the TTL. The cap only matters for absurdly slow rules, whose TTL would overflow PEXPIRE.
const longestTtlMs = 365 * 24 * 60 * 60 * 1000;

/**
 * The token-bucket step of `token-bucket.ts`, in Lua so that reading, refilling and taking are
 * one atomic step however many instances hit the same bucket at once. The time is Redis's own
 * (TIME), so instances whose clocks disagree still agree on every bucket.
 *
 * KEYS[1] the bucket; ARGV: capacity, refillPerSecond, tokenEpsilon, longestTtlMs.
 * Returns { allowed (0|1), remaining, retryAfterSeconds }, integers.
 */
const takeTokenLua = `
local capacity = tonumber(ARGV[1])
local refill_per_second = tonumber(ARGV[2])
local epsilon = tonumber(ARGV[3])
local longest_ttl_ms = tonumber(ARGV[4])

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

local stored = redis.call('HMGET', KEYS[1], 'tokens', 'updatedAtMs')
local tokens = tonumber(stored[1])
local updated_at_ms = tonumber(stored[2])
if tokens == nil or updated_at_ms == nil then
  tokens = capacity
  updated_at_ms = now_ms
else
  -- A failover to a replica with an earlier clock must neither mint tokens nor rewind the bucket.
  local elapsed_ms = math.max(0, now_ms - updated_at_ms)
  tokens = math.min(capacity, tokens + (elapsed_ms / 1000) * refill_per_second)
  updated_at_ms = math.max(updated_at_ms, now_ms)
end

if tokens + epsilon < 1 then
  -- Refused: nothing is written. The stored state already implies this refill, so a flood of
  -- refused requests costs Redis no writes.
  return { 0, 0, math.max(1, math.ceil((1 - tokens) / refill_per_second - epsilon)) }
end

tokens = math.max(0, tokens - 1)
-- Numbers passed to redis.call are written with full precision (%.17g or shortest round-trip),
-- so the fractional token count survives the round-trip exactly.
redis.call('HSET', KEYS[1], 'tokens', tokens, 'updatedAtMs', updated_at_ms)
local ms_until_full = math.ceil((capacity - tokens) / refill_per_second * 1000)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.min(ms_until_full, longest_ttl_ms)))
return { 1, math.floor(tokens + epsilon), 0 }
`;

type RedisWithTokenBucket = Redis & {
  plinthTakeToken(
    key: string,
    capacity: number,
    refillPerSecond: number,
    epsilon: number,
    longestTtlMs: number,
  ): Promise<[number, number, number]>;
};

/**
 * Token buckets in Redis, shared by every instance pointed at it: what `REDIS_URL` turns on, so
 * N instances behind a load balancer enforce one limit rather than N. Bucket keys are prefixed
 * `plinth:rl:` and expire once full.
 *
 * The script is sent once and then run by hash (ioredis `defineCommand`: EVALSHA, falling back
 * to EVAL when Redis has lost its script cache, e.g. after a restart).
 *
 * Redis is an optimisation, not a dependency of every route: while it does not answer (down,
 * restarting, frozen), requests are decided by this instance's memory under the same rules and
 * keys ({@link withMemoryFallback}), `status()` says `degraded`, and decisions return to Redis
 * within about a second of it answering again. A restarted Redis starts with full buckets. See
 * docs/server.md, "Rate limits".
 *
 * @example
 * ```ts
 * const limiter = createRedisRateLimiter('redis://127.0.0.1:6379', { logger });
 * const decision = await limiter.consume('auth.signIn|ip:203.0.113.7', { capacity: 10, refillPerSecond: 10 / 60 });
 * limiter.status?.(); // { store: 'redis', degraded: false }
 * await limiter.close();
 * ```
 */
export function createRedisRateLimiter(url: string, options: RedisRateLimiterOptions = {}): RateLimiter {
  const keyPrefix = options.keyPrefix ?? 'plinth:rl:';
  const { logger } = options;
  const redis = new Redis(url, {
    // ioredis's default retryStrategy (min(attempts × 50 ms, 2 s)) never gives up, so Redis is
    // found again after any outage. Its offline queue stays on: it holds the first requests while
    // the first connection is made (else they would all fall back at every start); a command
    // queued during a reconnection is failed after one more attempt, or by the command timeout.
    maxRetriesPerRequest: 1,
    // Bounds the wait on a Redis that holds the connection open but does not answer (frozen).
    commandTimeout: options.commandTimeoutMs ?? 500,
  }) as RedisWithTokenBucket;
  // Without a listener ioredis prints every reconnection failure to stderr.
  redis.on('error', (error: Error) => logger?.debug({ err: { message: error.message } }, 'rate-limit redis'));
  redis.defineCommand('plinthTakeToken', { numberOfKeys: 1, lua: takeTokenLua });

  const shared: RateLimiter = {
    async consume(key: string, rule: RateRule): Promise<RateDecision> {
      // Known to be down: fail at once, so the request is decided in memory rather than queued.
      if (redis.status === 'close' || redis.status === 'reconnecting' || redis.status === 'end') {
        throw new Error(`The connection to Redis is ${redis.status}; ioredis reconnects on its own.`);
      }
      const [allowed, remaining, retryAfterSeconds] = await redis.plinthTakeToken(
        keyPrefix + key,
        rule.capacity,
        rule.refillPerSecond,
        tokenEpsilon,
        longestTtlMs,
      );
      return { allowed: allowed === 1, remaining, retryAfterSeconds };
    },
    async close(): Promise<void> {
      // quit() lets commands in flight finish; it fails only if the connection is already gone.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return withMemoryFallback(shared, {
    onFallback: (error) =>
      logger?.warn(
        { err: { message: error.message } },
        'rate limits: Redis does not answer; this instance limits on its own until it does (GET /v1/health says degraded)',
      ),
    onRecovery: () => logger?.info('rate limits: Redis answers again; limits are shared by every instance'),
  });
}
