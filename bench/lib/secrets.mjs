// Secrets (`node bench/run.mjs secrets`): how fast `plinth secrets rotate` re-encrypts, and what
// its progress bar costs. 100 000 secrets are written on master key version 1; then rounds
// alternate between the command's own code (`runSecretsCommand`, its bar redrawn after every
// batch into a sink, as on a terminal) moving them to version 2, and the service's `rotate`
// with no progress at all moving them back. In this process, on PGlite in memory and, when it
// answers, on a fresh PostgreSQL database.
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { openDatabase } from '../../packages/server/dist/database/open-database.js';
import { masterKeyRing, sealSecret } from '../../packages/server/dist/secrets/envelope.js';
import { runSecretsCommand } from '../../packages/server/dist/secrets/secrets-commands.js';
import { createSecretsService } from '../../packages/server/dist/secrets/secrets-service.js';
import { createBenchDatabase, probePostgres } from './postgres.mjs';
import { fixed, table } from './report.mjs';

const seedChunk = 10_000;

/** The database, with a `close()` that does nothing: the command closes what it opened. */
const borrowed = (database) =>
  new Proxy(database, {
    get(target, property) {
      if (property === 'close') return async () => {};
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

async function seed(database, ring, count) {
  for (let first = 0; first < count; first += seedChunk) {
    const ids = [];
    const names = [];
    const envelopes = [];
    for (let n = first; n < Math.min(count, first + seedChunk); n++) {
      const id = randomUUID();
      ids.push(id);
      names.push(`BENCH_SECRET_${String(n).padStart(7, '0')}`);
      envelopes.push(sealSecret(ring, 1, id, `sk_live_${randomBytes(24).toString('base64url')}`));
    }
    await database.query(
      `INSERT INTO plinth.secrets (id, name, key_version, envelope)
       SELECT id, name, 1, envelope FROM unnest($1::uuid[], $2::text[], $3::text[]) AS s(id, name, envelope)`,
      [ids, names, envelopes],
    );
  }
}

async function measureOn(label, location, settings, log) {
  const { count, batchSize, rounds } = settings;
  const ring = masterKeyRing(
    [
      { version: 1, key: randomBytes(32) },
      { version: 2, key: randomBytes(32) },
    ],
    2,
  );
  const database = await openDatabase(location);
  try {
    log(`secrets: ${label}: writing ${count.toLocaleString('en-US')} secrets on key version 1`);
    await seed(database, ring, count);
    const withBar = [];
    const without = [];
    let redraws = 0;
    for (let round = 0; round < rounds; round++) {
      // To version 2 through the command, its bar redrawn after every batch.
      let began = performance.now();
      const lines = [];
      const code = await runSecretsCommand(
        ['rotate', '--to', '2', '--batch-size', String(batchSize)],
        async () => borrowed(database),
        ring,
        { stdout: (line) => lines.push(line), stderr: (line) => lines.push(line), progress: () => redraws++ },
      );
      if (code !== 0) throw new Error(`plinth secrets rotate exited ${code}: ${lines.join(' ')}`);
      withBar.push(count / ((performance.now() - began) / 1000));
      // And back to version 1 through the service, with no progress.
      began = performance.now();
      const summary = await createSecretsService({ database, ring }).rotate({ to: 1, batchSize });
      if (summary.reencrypted !== count) throw new Error(`rotate back moved ${summary.reencrypted} of ${count}`);
      without.push(count / ((performance.now() - began) / 1000));
      log(
        `secrets: ${label}, round ${round + 1}: ${Math.round(withBar.at(-1))}/s with the bar, ${Math.round(without.at(-1))}/s without`,
      );
    }
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const ratios = withBar.map((value, index) => without[index] / value - 1);
    return {
      label,
      count,
      batchSize,
      withBar,
      without,
      withBarPerSecond: median(withBar),
      withoutPerSecond: median(without),
      barOverhead: median(ratios),
      redrawsPerRotation: redraws / rounds,
    };
  } finally {
    await database.close();
  }
}

/**
 * Runs the section: rotation rounds on PGlite in memory and on PostgreSQL when it answers.
 *
 * @example
 * ```js
 * const secrets = await benchSecrets({ count: 100_000, batchSize: 500, rounds: 3, log, cleanups });
 * ```
 */
export async function benchSecrets({ log, cleanups, ...settings }) {
  const loadAverageAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const targets = [await measureOn('PGlite (memory)', 'memory', settings, log)];
  const skipped = await probePostgres();
  if (skipped) log(`secrets: PostgreSQL skipped, ${skipped}`);
  else {
    const database = await createBenchDatabase(cleanups);
    targets.push(await measureOn('PostgreSQL', database.url, settings, log));
  }
  return { loadAverageAtStart, settings, targets, postgresSkipped: skipped };
}

/**
 * The section's table.
 *
 * @example
 * ```js
 * process.stdout.write(formatSecrets(results.secrets).join('\n'));
 * ```
 */
export function formatSecrets(secrets) {
  const whole = (value) => Math.round(value).toLocaleString('en-US');
  return [
    `Secrets: plinth secrets rotate over ${secrets.settings.count.toLocaleString('en-US')} secrets, ${secrets.settings.batchSize} a batch, in this process; ${secrets.settings.rounds} rounds of the command (its bar redrawn after every batch) to version 2 and the service's rotate (no progress) back; load average at the section's start: ${secrets.loadAverageAtStart.join(' ')}`,
    ...(secrets.postgresSkipped ? [`  PostgreSQL: skipped, ${secrets.postgresSkipped}`] : []),
    ...table(
      ['database', 'secrets/s with the bar', 'by round', 'secrets/s without', 'by round', 'bar overhead', 'redraws'],
      secrets.targets.map((target) => [
        target.label,
        whole(target.withBarPerSecond),
        target.withBar.map(whole).join(' '),
        whole(target.withoutPerSecond),
        target.without.map(whole).join(' '),
        `${fixed(target.barOverhead * 100, 1)} %`,
        whole(target.redrawsPerRotation),
      ]),
    ),
  ];
}
