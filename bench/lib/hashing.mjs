// argon2id throughput with the server's own password hasher: one hash at a time (the baseline),
// then as many at once as the hasher's concurrency cap allows. The hasher is not exported from
// the package index, so it is imported from the built file; the same for its default costs.
import { owaspArgon2idParams } from '../../packages/server/dist/auth/argon2-phc.js';
import { createPasswordHasher } from '../../packages/server/dist/auth/password-hasher.js';

/** The hasher's default cap (`maxConcurrent`, see password-hasher.ts): the server creates it with defaults. */
export const concurrencyCap = 4;

const password = 'correct horse battery staple';
const mib = 1024 * 1024;

const emptyTally = (callers) => ({ callers, hashes: 0, ms: 0, latencyTotal: 0, rssPeakGrowth: 0 });

/**
 * Calls `hash` from `tally.callers` loops at once for `ms` (calls in flight then finish and
 * count), adding to `tally`, with the peak growth of this process's RSS.
 */
async function hashFor(hasher, ms, tally) {
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 10);
  const start = performance.now();
  const deadline = start + ms;
  const loop = async () => {
    while (performance.now() < deadline) {
      const began = performance.now();
      await hasher.hash(password);
      tally.latencyTotal += performance.now() - began;
      tally.hashes++;
    }
  };
  await Promise.all(Array.from({ length: tally.callers }, loop));
  tally.ms += performance.now() - start;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  tally.rssPeakGrowth = Math.max(tally.rssPeakGrowth, rssPeak - rssBefore);
}

function summarise(tally) {
  return {
    callers: tally.callers,
    hashes: tally.hashes,
    seconds: Math.round(tally.ms / 10) / 100,
    hashesPerSecond: (tally.hashes * 1000) / tally.ms,
    // Machine time per hash at this throughput: what each one costs the server.
    msPerHash: tally.ms / tally.hashes,
    // Wall time one caller waits for one hash.
    latencyMs: tally.latencyTotal / tally.hashes,
    rssPeakGrowthMiB: tally.rssPeakGrowth / mib,
  };
}

/**
 * The argon2id benchmark: hashes per second one at a time (the baseline) and with
 * {@link concurrencyCap} callers at once, each for `seconds` in all, in alternating slices so
 * that a change in the machine's load falls on both alike; and the ratio of the two.
 */
export async function benchHashing({ seconds, slices, log }) {
  // Exactly as the server makes it (server-services.ts): the defaults.
  const hasher = createPasswordHasher();
  // The first hash loads the native binding and grows the heap; it is not counted.
  await hasher.hash(password);

  const sequential = emptyTally(1);
  const concurrent = emptyTally(concurrencyCap);
  const sliceMs = (seconds * 1000) / slices;
  log(
    `argon2id: 1 and ${concurrencyCap} at once, alternating ${slices} slices of ${sliceMs / 1000} s (${seconds} s each)`,
  );
  for (let slice = 0; slice < slices; slice++) {
    const order = slice % 2 === 0 ? [sequential, concurrent] : [concurrent, sequential];
    for (const tally of order) await hashFor(hasher, sliceMs, tally);
  }

  const results = { sequential: summarise(sequential), concurrent: summarise(concurrent) };
  return {
    params: { algorithm: 'argon2id', version: 19, ...owaspArgon2idParams },
    concurrencyCap,
    // libuv runs the hashes; its pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise.
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    slices,
    ...results,
    baseline: 'sequential',
    ratio: results.concurrent.hashesPerSecond / results.sequential.hashesPerSecond,
  };
}
