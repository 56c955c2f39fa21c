// Durability (`node bench/run.mjs durability`): what syncing each commit to disk costs the
// embedded database. Two PGlite directories, one opened with 'sync' (the default) and one with
// 'none', each opened as the server opens its embedded database (openPgliteDatabase, its PGlite
// thread). Inserts, each its own transaction, are timed one writer at a time and 10 writers at
// once, in alternating slices; ratio 'sync' ÷ 'none'. The directories are made under bench/results/, on the disk the project is
// on (a tmpfs /tmp would sync for free), and removed afterwards.
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// Not exported from the package index: imported from the built files, as the embedded section does.
import { serverRole } from '../../packages/server/dist/database/database.js';
import { openPgliteDatabase } from '../../packages/server/dist/database/pglite-database.js';
import { fixed, table } from './report.mjs';

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

// statfs(2) magic numbers of the file systems a data directory is likely to be on.
const fileSystems = {
  61267: 'ext4',
  1481003842: 'xfs',
  2435016766: 'btrfs',
  16914836: 'tmpfs',
  2035054128: 'overlayfs',
  801189825: 'zfs',
  26: 'apfs',
};

/** The server's embedded database (its PGlite thread) in `location`, opened with `durability`. */
async function openThread(location, durability) {
  const database = await openPgliteDatabase(location, { durability });
  // A run whose setting did not take measures nothing: PostgreSQL's fsync says which one is on.
  const [{ fsync }] = await database.query('SHOW fsync');
  if (fsync !== (durability === 'sync' ? 'on' : 'off')) {
    throw new Error(`the '${durability}' database runs with fsync ${fsync}: the setting did not take`);
  }
  // Made as the superuser the session logs in as; written to as the server role, as the server does.
  await database.execScript(`RESET ROLE;
    CREATE TABLE bench_notes (id bigserial PRIMARY KEY, writer int NOT NULL, body text NOT NULL);
    GRANT INSERT ON bench_notes TO ${serverRole};
    GRANT USAGE ON SEQUENCE bench_notes_id_seq TO ${serverRole};
    SET ROLE ${serverRole};`);
  return {
    insert: (writer) =>
      database.run('INSERT INTO bench_notes (writer, body) VALUES ($1, $2)', [
        writer,
        'a note of some forty characters or so....',
      ]),
    close: () => database.close(),
  };
}

/** Inserts answered in `ms` by `writers` loops at once, each waiting for its answer. */
async function insertsFor(thread, ms, writers) {
  let done = 0;
  const start = performance.now();
  const deadline = start + ms;
  const loop = async (writer) => {
    while (performance.now() < deadline) {
      await thread.insert(writer);
      done++;
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, writer) => loop(writer)));
  return { inserts: done, ms: performance.now() - start };
}

/**
 * Runs the section: per writer count, `rounds` slices of `seconds` on each setting, alternating
 * which goes first, after a warm-up of `warmupSeconds` each.
 *
 * @example
 * ```js
 * const durability = await benchDurability({ writerCounts: [1, 10], warmupSeconds: 1, seconds: 3, rounds: 3, log, cleanups });
 * ```
 */
export async function benchDurability({ writerCounts, warmupSeconds, seconds, rounds, log, cleanups }) {
  const loadAverageAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  mkdirSync(resultsDir, { recursive: true });
  const scratch = mkdtempSync(join(resultsDir, 'durability-'));
  const removeScratch = async () => rmSync(scratch, { recursive: true, force: true });
  cleanups.push(removeScratch);
  const fileSystemType = statfsSync(scratch).type;
  const fileSystem = fileSystems[fileSystemType] ?? `statfs type 0x${fileSystemType.toString(16)}`;
  if (fileSystem === 'tmpfs') log('durability: the directories are on tmpfs, where a sync costs nothing');
  const threads = {};
  try {
    for (const durability of ['sync', 'none']) {
      log(`durability: opening a new PGlite directory with '${durability}'`);
      threads[durability] = await openThread(join(scratch, durability), durability);
    }
    const cases = [];
    for (const writers of writerCounts) {
      const tally = { sync: [], none: [] };
      for (const durability of ['sync', 'none']) await insertsFor(threads[durability], warmupSeconds * 1000, writers);
      log(`durability: ${writers} writer(s), ${rounds} rounds of ${seconds} s per setting`);
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? ['sync', 'none'] : ['none', 'sync'];
        for (const durability of order) {
          const slice = await insertsFor(threads[durability], seconds * 1000, writers);
          tally[durability].push((slice.inserts * 1000) / slice.ms);
        }
        log(
          `durability: ${writers} writer(s), round ${round + 1}: ${Math.round(tally.sync.at(-1))}/s 'sync', ${Math.round(tally.none.at(-1))}/s 'none'`,
        );
      }
      const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      cases.push({
        writers,
        sync: tally.sync,
        none: tally.none,
        syncPerSecond: median(tally.sync),
        nonePerSecond: median(tally.none),
        ratio: median(tally.sync) / median(tally.none),
        // What one commit's sync adds, from the medians: time per insert beyond 'none'.
        syncMsPerInsert: 1000 / median(tally.sync) - 1000 / median(tally.none),
      });
    }
    return {
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg().map((value) => Math.round(value * 100) / 100),
      fileSystem,
      settings: { writerCounts, warmupSeconds, seconds, rounds },
      cases,
    };
  } finally {
    for (const thread of Object.values(threads)) await thread.close().catch(() => undefined);
    cleanups.splice(cleanups.indexOf(removeScratch), 1);
    await removeScratch();
  }
}

/**
 * The section's table.
 *
 * @example
 * ```js
 * process.stdout.write(formatDurability(results.durability).join('\n'));
 * ```
 */
export function formatDurability(durability) {
  const whole = (value) => Math.round(value).toLocaleString('en-US');
  const { settings } = durability;
  return [
    `Durability: INSERTs (one transaction each) on the embedded database's thread, a new directory on ${durability.fileSystem} per setting; per writer count ${settings.rounds} slices of ${settings.seconds} s per setting, alternating; load average ${durability.loadAverageAtStart.join(' ')} at the start, ${durability.loadAverageAtEnd.join(' ')} at the end`,
    ...table(
      ['writers', "'sync' inserts/s", 'by round', "'none' inserts/s", 'by round', 'ratio', 'sync ms/insert'],
      durability.cases.map((entry) => [
        String(entry.writers),
        whole(entry.syncPerSecond),
        entry.sync.map(whole).join(' '),
        whole(entry.nonePerSecond),
        entry.none.map(whole).join(' '),
        fixed(entry.ratio, 2),
        fixed(entry.syncMsPerInsert, 2),
      ]),
    ),
    "  ratio: 'sync' ÷ 'none' (medians). 'sync' writes each commit's WAL to disk before answering; 'none' leaves it in the OS page cache.",
  ];
}
