import type { Database } from '../database/database.js';
import { type MasterKeyRing, SecretEnvelopeError } from './envelope.js';
import { createSecretsService, type RotationProgress, secretsOffMessage } from './secrets-service.js';

/** Where the `plinth secrets` commands write. */
export interface SecretsCommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Redraws one status line in place (a terminal); without it, progress is printed as lines. */
  progress?: ((text: string) => void) | undefined;
  /** The clock, in ms (tests). Default `performance.now`. */
  now?: () => number;
}

/** A usage mistake in `plinth secrets …`: printed as one line, exit code 2. */
export class SecretsUsageError extends Error {
  override readonly name = 'SecretsUsageError';
}

const usage =
  'secrets rotate --to N [--batch-size B] [--concurrency C] | secrets audit --key-version N | secrets rollback --to N [--batch-size B] [--concurrency C]';

function flags(args: readonly string[], allowed: readonly string[]): Map<string, number> {
  const values = new Map<string, number>();
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (!allowed.includes(flag)) throw new SecretsUsageError(`unknown option ${flag}; usage: ${usage}`);
    if (value === undefined || !/^\d{1,7}$/.test(value) || Number(value) < 1)
      throw new SecretsUsageError(`${flag} needs a whole number from 1; got ${JSON.stringify(value ?? '')}.`);
    values.set(flag, Number(value));
  }
  return values;
}

const whole = (value: number) => value.toLocaleString('en-US');

/** A progress bar: `[#######.............]  35%  35,000 / 100,000  4,210/s`. */
function bar({ done, total }: RotationProgress, perSecond: number): string {
  const width = 24;
  const share = total === 0 ? 1 : done / total;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${whole(done)} / ${whole(total)}  ${whole(Math.round(perSecond))}/s`;
}

/**
 * `plinth secrets rotate --to N`, `plinth secrets rollback --to N` (the same move, to an older
 * version) and `plinth secrets audit --key-version N` (how many secrets each version holds;
 * exit code 1 while any is on N). Rotation re-encrypts in batches, each committed on its own:
 * stopped at any point, it is resumed by running it again. Resolves with the exit code.
 *
 * @example
 * ```ts
 * await runSecretsCommand(['rotate', '--to', '2'], () => openDatabase(location), ring, io);
 * ```
 */
export async function runSecretsCommand(
  args: readonly string[],
  open: () => Promise<Database>,
  ring: MasterKeyRing | undefined,
  io: SecretsCommandIo,
): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'rotate' && action !== 'rollback' && action !== 'audit')
    throw new SecretsUsageError(`usage: ${usage}`);
  if (!ring) throw new SecretsUsageError(secretsOffMessage);
  const options =
    action === 'audit' ? flags(rest, ['--key-version']) : flags(rest, ['--to', '--batch-size', '--concurrency']);
  const version = options.get(action === 'audit' ? '--key-version' : '--to');
  if (version === undefined)
    throw new SecretsUsageError(`${action === 'audit' ? '--key-version' : '--to'} is required; usage: ${usage}`);
  if (action !== 'audit' && !ring.keys.has(version))
    throw new SecretsUsageError(
      `--to ${version}: no master key of that version is configured (PLINTH_SECRETS_KEYS has ${[...ring.keys.keys()].join(', ')}).`,
    );
  const database = await open();
  try {
    const secrets = createSecretsService({ database, ring });
    if (action === 'audit') {
      const counts = await secrets.countByVersion();
      for (const [keyVersion, count] of counts) io.stdout(`version ${keyVersion}: ${whole(count)} secrets`);
      const left = counts.get(version) ?? 0;
      io.stdout(
        left === 0
          ? `No secret is on key version ${version}: it may be removed from PLINTH_SECRETS_KEYS.`
          : `${whole(left)} secrets are still on key version ${version}; run plinth secrets rotate --to ${ring.current}.`,
      );
      return left === 0 ? 0 : 1;
    }
    const now = io.now ?? (() => performance.now());
    const began = now();
    let lastLine = began;
    const report = (progress: RotationProgress) => {
      const at = now();
      const line = bar(progress, progress.reencrypted / Math.max(0.001, (at - began) / 1000));
      if (io.progress) io.progress(line);
      // Without a terminal (CI, a log file): a line every 5 s and at the end.
      else if (at - lastLine >= 5000 || progress.done === progress.total) {
        io.stderr(line);
        lastLine = at;
      }
    };
    if (action === 'rollback') io.stdout(`Rolling back to key version ${version}.`);
    const summary = await secrets.rotate({
      to: version,
      batchSize: options.get('--batch-size') ?? 500,
      concurrency: options.get('--concurrency') ?? 1,
      onProgress: report,
    });
    if (io.progress) io.progress('');
    io.stdout(
      `Done: scanned ${whole(summary.scanned)}, re-encrypted ${whole(summary.reencrypted)}, already on version ${version} ${whole(summary.alreadyCurrent)}, in ${summary.seconds.toFixed(1)} s.`,
    );
    if (version !== ring.current)
      io.stdout(
        `New secrets are still written with version ${ring.current}: set PLINTH_SECRETS_KEY_VERSION=${version} on every instance if that is what you want.`,
      );
    return 0;
  } catch (error) {
    if (error instanceof SecretEnvelopeError) {
      io.stderr(`plinth: ${error.message} Run the same command again once it is fixed: it resumes.`);
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
}
