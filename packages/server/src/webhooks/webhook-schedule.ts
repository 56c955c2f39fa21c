import { webhookMaxAttempts } from '@plinth/protocol';

/**
 * How long after the attempt before it each attempt is made: the first at once, then 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h and 10 h. Eight attempts over about 27.5 hours, so a receiver that is
 * down for a night still gets everything.
 */
export const retryDelaysMs: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

if (retryDelaysMs.length !== webhookMaxAttempts) {
  throw new Error('webhook-schedule: one delay per attempt');
}

/** Each delay is moved by up to this fraction either way, so retries of many deliveries spread out. */
export const retryJitter = 0.1;

/**
 * When the attempt after attempt `made` (1-based) is due, or undefined when `made` was the last.
 * `random` gives [0, 1); the delay is scaled by a factor in [0.9, 1.1).
 *
 * @example
 * ```ts
 * nextAttemptAt(1, Date.parse('2026-12-01T00:00:00Z'), () => 0.5); // 2026-12-01T00:00:05Z, in ms
 * nextAttemptAt(8, Date.now(), Math.random); // undefined: given up
 * ```
 */
export function nextAttemptAt(made: number, now: number, random: () => number): number | undefined {
  const delay = retryDelaysMs[made];
  if (delay === undefined) return undefined;
  return now + Math.round(delay * (1 - retryJitter + 2 * retryJitter * random()));
}

/** An endpoint whose every delivery has failed for this long is disabled. */
export const failingDisablesAfterMs = 5 * 24 * 3_600_000;
