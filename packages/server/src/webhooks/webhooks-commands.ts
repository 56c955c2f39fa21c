import type { Database } from '../database/database.js';
import { createLogger } from '../logger.js';
import { createWebhooksService } from './webhooks-service.js';

/** A usage mistake in `plinth webhooks …`: printed as one line, exit code 2. */
export class WebhooksUsageError extends Error {
  override readonly name = 'WebhooksUsageError';
}

const usage = 'webhooks replay --since <2026-12-01T00:00:00Z | 6h | 3d> [--endpoint whe_…]';
const units: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * When `--since` means: an ISO 8601 time, or a span back from `now` (`30m`, `6h`, `3d`).
 *
 * @example
 * ```ts
 * sinceOf('6h', Date.parse('2026-12-01T12:00:00Z')); // 2026-12-01T06:00:00.000Z
 * ```
 */
export function sinceOf(value: string, now: number): Date {
  const span = /^(\d{1,6})([mhd])$/.exec(value);
  if (span) return new Date(now - Number(span[1]) * (units[span[2] as string] as number));
  const time = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw new WebhooksUsageError(
      `--since ${JSON.stringify(value)} is neither a time (2026-12-01T00:00:00Z) nor a span back from now (30m, 6h, 3d).`,
    );
  if (time > now) throw new WebhooksUsageError(`--since ${value} is in the future; name a time before now.`);
  return new Date(time);
}

/**
 * `plinth webhooks replay --since T [--endpoint ID]`: sends again every delivery made since T
 * that failed, and makes the deliveries that are missing for events still in the log (an
 * endpoint that was disabled, say). They go out from the running server within a second, under
 * their ids: receivers that deduplicate on `webhook-id` process nothing twice. Resolves with the
 * exit code.
 *
 * @example
 * ```ts
 * await runWebhooksCommand(['replay', '--since', '6h'], () => openDatabase(location), io);
 * ```
 */
export async function runWebhooksCommand(
  args: readonly string[],
  open: () => Promise<Database>,
  io: { stdout: (line: string) => void; now?: () => number },
): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'replay') throw new WebhooksUsageError(`usage: ${usage}`);
  let since: Date | undefined;
  let endpoint: string | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (flag !== '--since' && flag !== '--endpoint')
      throw new WebhooksUsageError(`unknown option ${flag}; usage: ${usage}`);
    if (value === undefined) throw new WebhooksUsageError(`${flag} needs a value; usage: ${usage}`);
    if (flag === '--since') since = sinceOf(value, (io.now ?? Date.now)());
    else if (flag === '--endpoint') {
      if (!/^whe_[A-Za-z0-9]{1,64}$/.test(value))
        throw new WebhooksUsageError(`--endpoint ${JSON.stringify(value)} is not an endpoint id (whe_…).`);
      endpoint = value;
    }
  }
  if (!since) throw new WebhooksUsageError(`--since is required; usage: ${usage}`);
  const database = await open();
  try {
    const webhooks = await createWebhooksService({
      database,
      logger: createLogger('silent'),
      options: { autoRun: false },
    });
    const { resent, created } = await webhooks.replay(since, endpoint);
    io.stdout(
      `Since ${since.toISOString()}: ${resent} failed ${resent === 1 ? 'delivery' : 'deliveries'} to send again, ${created} missing ${created === 1 ? 'delivery' : 'deliveries'} made. A running server sends them within a second.`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
