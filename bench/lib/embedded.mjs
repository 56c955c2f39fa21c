// The embedded database on its own thread (packages/server/src/database/pglite-database.ts)
// against PGlite called on this thread, as the server did before: what the thread hop costs per
// statement, and what it buys, the event loop's longest stall while a slow statement runs. The
// database is not exported from the package index, so it is imported from the built file.

import { openPgliteDatabase } from '../../packages/server/dist/database/pglite-database.js';
import { PGlite } from '../../packages/server/node_modules/@electric-sql/pglite/dist/index.js';

const select = 'SELECT id, name FROM bench_rows WHERE id = $1';
const setup = `CREATE TABLE IF NOT EXISTS bench_rows (id int PRIMARY KEY, name text NOT NULL);
  INSERT INTO bench_rows SELECT i, 'row ' || i FROM generate_series(1, 1000) AS i ON CONFLICT DO NOTHING;`;

/** Statements per second for `ms`, from `callers` loops at once. */
async function selectsFor(query, ms, callers) {
  let done = 0;
  const start = performance.now();
  const deadline = start + ms;
  const loop = async () => {
    while (performance.now() < deadline) {
      await query(select, [1 + (done % 1000)]);
      done++;
    }
  };
  await Promise.all(Array.from({ length: callers }, loop));
  return { statements: done, ms: performance.now() - start };
}

/** The longest gap between 5 ms ticks of this thread's event loop while `work` runs. */
async function longestStall(work) {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await work();
  clearInterval(ticker);
  longest = Math.max(longest, performance.now() - last);
  return longest;
}

/**
 * The embedded-database benchmark: `SELECT … WHERE id = $1` per second through the server's
 * PGlite thread and through PGlite on this thread (the baseline), in alternating slices; and the
 * event loop's longest stall during `pg_sleep(sleepSeconds)` on each.
 */
export async function benchEmbedded({ callers, warmupSeconds, seconds, rounds, sleepSeconds, log }) {
  log('embedded database: opening PGlite on this thread and on its own thread');
  const inThread = new PGlite();
  await inThread.waitReady;
  await inThread.exec(setup);
  const threaded = await openPgliteDatabase('memory');
  await threaded.execScript(`RESET ROLE; ${setup}`);
  const paths = {
    inThread: { query: (text, params) => inThread.query(text, params), statements: 0, ms: 0 },
    ownThread: { query: (text, params) => threaded.query(text, params), statements: 0, ms: 0 },
  };
  try {
    for (const path of Object.values(paths)) await selectsFor(path.query, warmupSeconds * 1000, callers);
    log(`embedded database: ${rounds} rounds of ${seconds / rounds} s per path`);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['inThread', 'ownThread'] : ['ownThread', 'inThread'];
      for (const name of order) {
        const tally = await selectsFor(paths[name].query, (seconds / rounds) * 1000, callers);
        paths[name].statements += tally.statements;
        paths[name].ms += tally.ms;
      }
    }
    log(`embedded database: the event loop during pg_sleep(${sleepSeconds})`);
    const stallInThread = await longestStall(() => inThread.query(`SELECT pg_sleep(${sleepSeconds})`));
    const stallOwnThread = await longestStall(() => threaded.query(`SELECT pg_sleep(${sleepSeconds})`));
    const perSecond = (path) => (path.statements * 1000) / path.ms;
    return {
      callers,
      seconds,
      inThreadPerSecond: perSecond(paths.inThread),
      ownThreadPerSecond: perSecond(paths.ownThread),
      ratio: perSecond(paths.ownThread) / perSecond(paths.inThread),
      // Time per statement beyond the in-thread call: what the hop between threads costs.
      hopMicroseconds: 1e6 / perSecond(paths.ownThread) - 1e6 / perSecond(paths.inThread),
      sleepSeconds,
      stallInThreadMs: stallInThread,
      stallOwnThreadMs: stallOwnThread,
    };
  } finally {
    await inThread.close();
    await threaded.close();
  }
}
