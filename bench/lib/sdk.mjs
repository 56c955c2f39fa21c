// The SDK's figures (`node bench/run.mjs sdk`): one select by primary key, three ways, from this
// process against one PostgreSQL database: (1) through the SDK (`plinth.from(...).select(...).where({ id }).single()`) to a
// Plinth server in a child process; (2) the very same HTTP request with a bare `fetch`; (3) the
// same statement sent directly with `postgres` (porsager). Each runs as a fixed number of callers
// looping for a fixed time, interleaved in rotating order, so every figure is from the same run.
// Two more paths say what bounds the figures: the same bare fetch to a server that does no work
// (the most any HTTP client on `fetch` could reach here), and autocannon against the Plinth
// server alone (what the server can answer when its client costs next to nothing). The SDK path
// against `postgres` in process was issue 4's goal; it measured the cost of any HTTP hop rather
// than Plinth's, and the data section (data.mjs) replaced it. It stays here as context; the goal
// left in this section is the SDK's overhead over a bare fetch.
import { fork } from 'node:child_process';
import { createClient } from '@plinth/client';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { rateRules, startTarget, stopTarget } from './http.mjs';
import { createBenchDatabase, probePostgres } from './postgres.mjs';

/** The goal from issue 4 that still stands: the SDK ≤ 10 % slower than a bare fetch. */
export const goals = { sdkOverhead: 0.1 };

const rows = 10_000;
const columns = 'id, name, score';
const statement = 'SELECT id, name, score FROM public.bench_rows WHERE id = $1';
// An id the SDK's request is captured with, then replaced in the bare-fetch copy of its body.
const sentinel = 7_654_321;

/**
 * `callers` loops each calling `operation(n)` with a rotating id until `seconds` have passed.
 * Returns calls completed, failures and the measured time.
 */
async function drive(operation, { callers, seconds }) {
  const deadline = performance.now() + seconds * 1000;
  let calls = 0;
  let failures = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        const id = (next++ % rows) + 1;
        try {
          await operation(id);
          calls++;
        } catch {
          failures++;
        }
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { calls, failures, seconds: (performance.now() - started) / 1000, cpuMicros: used.user + used.system };
}

/** The `q` quantile of `values` (linear between the two nearest). */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  return sorted[below] + (sorted[Math.min(below + 1, sorted.length - 1)] - sorted[below]) * (at - below);
}

const median = (values) => quantile(values, 0.5);

/**
 * The same comparison as a user's app server would see it: autocannon → an app (a child process)
 * → postgres, or → the SDK → the Plinth server → PostgreSQL, or → a bare fetch to a server that
 * does no work. Paths interleaved, `rounds` slices of `seconds / rounds` each.
 */
async function benchThroughApp({ config, callers, warmupSeconds, seconds, rounds, log }) {
  const app = fork(new URL('./data-app-process.mjs', import.meta.url), [JSON.stringify({ ...config, callers })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = await new Promise((resolve, reject) => {
      app.once('message', resolve);
      app.once('exit', (code) => reject(new Error(`the app process exited (${code})`)));
    });
    const paths = [
      { label: 'autocannon → app → postgres (baseline)', path: '/direct' },
      { label: 'autocannon → app → SDK → server → PostgreSQL', path: '/sdk' },
      { label: 'autocannon → app → bare fetch → a server that does no work (the floor)', path: '/floor' },
    ];
    for (const { label, path } of paths) {
      const response = await fetch(`${ready.url}${path}`);
      const row = await response.json();
      if (response.status !== 200 || typeof row?.id !== 'number')
        throw new Error(`${label} answered ${response.status}`);
    }
    const load = async (path, duration) => {
      const result = await autocannon({ url: `${ready.url}${path}`, connections: callers, duration });
      return { calls: result.requests.total, failures: result.non2xx + result.errors, seconds: result.duration };
    };
    log(`SDK through an app: ${warmupSeconds} s warm-up per path`);
    for (const { path } of paths) await load(path, warmupSeconds);
    const slice = seconds / rounds;
    log(`SDK through an app: ${rounds} rounds of ${slice} s per path, order rotating`);
    const tallies = paths.map(() => ({ calls: 0, failures: 0, seconds: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < paths.length; i++) {
        const index = (i + round) % paths.length;
        const result = await load(paths[index].path, slice);
        tallies[index].calls += result.calls;
        tallies[index].failures += result.failures;
        tallies[index].seconds += result.seconds;
      }
    }
    const measured = paths.map(({ label }, index) => ({
      label,
      callsPerSecond: tallies[index].calls / tallies[index].seconds,
      calls: tallies[index].calls,
      failures: tallies[index].failures,
    }));
    const [direct, sdk, floor] = measured;
    return {
      paths: measured,
      sdkToDirect: sdk.callsPerSecond / direct.callsPerSecond,
      floorToDirect: floor.callsPerSecond / direct.callsPerSecond,
    };
  } finally {
    app.kill();
  }
}

/** Checks one answer of each path before measuring: they must all read the same row. */
function expectRow(label, row, id) {
  if (row?.id !== id || row.name !== `row ${id}`) {
    throw new Error(`${label} answered ${JSON.stringify(row)} for id ${id}`);
  }
}

export async function benchSdk(settings) {
  const { log, cleanups, callers, warmupSeconds, seconds, rounds, overheadPairs, overheadSlice } = settings;
  const unavailable = await probePostgres();
  if (unavailable) {
    log(`SDK: skipped, ${unavailable}`);
    return { skipped: unavailable };
  }
  const database = await createBenchDatabase(cleanups);
  let server;
  let floor;
  let direct;
  try {
    log('SDK: starting Plinth on PostgreSQL with the benchmark schema');
    server = await startTarget('Plinth data API', { kind: 'data', database: database.url, rateRules });
    floor = await startTarget('floor (no server work)', { kind: 'baseline' });
    const { serviceKey, publishableKey } = server.headers;
    const base = server.url;

    // The SDK, and a copy of exactly what it sends, for the bare-fetch path.
    let captured;
    const capturing = async (input, init) => {
      const request = new Request(input, init);
      captured ??= { url: request.url, headers: new Headers(request.headers), body: await request.clone().text() };
      return fetch(request);
    };
    const probe = createClient({ url: base, publishableKey, serviceKey, fetch: capturing });
    expectRow('SDK', await probe.from('bench_rows').select(columns).where({ id: 1 }).single(), 1);
    captured = undefined;
    await probe.from('bench_rows').select(columns).where({ id: sentinel }).maybeSingle();
    if (!captured) throw new Error('the SDK made no request through its fetch');
    const { headers } = captured;
    headers.delete('x-request-id');
    const bodyTemplate = captured.body;
    if (!bodyTemplate.includes(String(sentinel)))
      throw new Error(`cannot find the id in the SDK's body ${bodyTemplate}`);
    const [before, after] = bodyTemplate.split(String(sentinel));

    const plinth = createClient({ url: base, publishableKey, serviceKey });
    const viaSdk = (id) => plinth.from('bench_rows').select(columns).where({ id }).single();
    const viaFetch = async (id, signal) => {
      const response = await fetch(captured.url, { method: 'POST', headers, body: `${before}${id}${after}`, signal });
      if (!response.ok) throw new Error(`bare fetch answered ${response.status}`);
      const body = await response.json();
      if (body.rows.length !== 1) throw new Error('bare fetch found no row');
      return body.rows[0];
    };
    // What a hand-written fetch needs to match the SDK's default timeout: a signal per call.
    const viaFetchWithTimeout = (id) => viaFetch(id, AbortSignal.timeout(30_000));
    // The same request and answer handling to a server that only reads the body and answers.
    const floorUrl = floor.url;
    const viaFloor = async (id) => {
      const response = await fetch(floorUrl, { method: 'POST', headers, body: `${before}${id}${after}` });
      if (!response.ok) throw new Error(`the floor server answered ${response.status}`);
      const body = await response.json();
      if (body.rows.length !== 1) throw new Error('the floor server answered no row');
      return body.rows[0];
    };
    direct = postgres(database.url, { max: callers, prepare: true, onnotice: () => {} });
    const viaPostgres = async (id) => (await direct.unsafe(statement, [id], { prepare: true }))[0];

    // The server alone, loaded by autocannon with the SDK's request (one fixed id): what the
    // server can answer when the client costs next to nothing.
    const viaAutocannon = async (seconds) => {
      const result = await autocannon({
        url: captured.url,
        method: 'POST',
        headers: Object.fromEntries(headers),
        body: `${before}42${after}`,
        connections: callers,
        duration: seconds,
      });
      return { calls: result.requests.total, failures: result.non2xx + result.errors, seconds: result.duration };
    };

    const paths = [
      { label: 'postgres directly (baseline)', run: viaPostgres },
      { label: 'SDK → server → PostgreSQL', run: viaSdk },
      { label: 'bare fetch → server → PostgreSQL', run: viaFetch },
      { label: 'bare fetch → a server that does no work (the floor)', run: viaFloor },
      { label: 'bare fetch with a 30 s timeout signal → server → PostgreSQL', run: viaFetchWithTimeout },
    ];
    for (const path of paths) expectRow(path.label, await path.run(42), 42);
    paths.push({ label: 'autocannon → server → PostgreSQL (server alone)', load: viaAutocannon });
    for (const path of paths) {
      log(`SDK, ${path.label}: ${warmupSeconds} s warm-up`);
      if (path.load) await path.load(warmupSeconds);
      else await drive(path.run, { callers, seconds: warmupSeconds });
    }
    const slice = seconds / rounds;
    log(`SDK: ${rounds} rounds of ${slice} s per path, order rotating, ${callers} callers each`);
    const tallies = paths.map(() => ({ calls: 0, failures: 0, seconds: 0, cpuMicros: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < paths.length; i++) {
        const index = (i + round) % paths.length;
        const path = paths[index];
        const result = path.load ? await path.load(slice) : await drive(path.run, { callers, seconds: slice });
        const tally = tallies[index];
        tally.calls += result.calls;
        tally.failures += result.failures;
        tally.seconds += result.seconds;
        tally.cpuMicros += result.cpuMicros ?? Number.NaN;
      }
    }
    // The SDK's overhead on its own: the SDK and the bare fetch in short slices back to back
    // (which goes first alternates), and the median of the pairs' ratios. Load from elsewhere on
    // the machine comes in bursts; this way a burst moves both figures of a pair, or is outvoted.
    log(`SDK: the SDK and the bare fetch in ${overheadPairs} pairs of ${overheadSlice} s slices`);
    const pairOverheads = [];
    for (let pair = 0; pair < overheadPairs; pair++) {
      const order = pair % 2 ? [viaFetch, viaSdk] : [viaSdk, viaFetch];
      const results = [];
      for (const run of order) results.push(await drive(run, { callers, seconds: overheadSlice }));
      const [sdkResult, bareResult] = pair % 2 ? [results[1], results[0]] : results;
      pairOverheads.push(bareResult.calls / bareResult.seconds / (sdkResult.calls / sdkResult.seconds) - 1);
    }
    const measured = paths.map((path, index) => ({
      label: path.label,
      callsPerSecond: tallies[index].calls / tallies[index].seconds,
      calls: tallies[index].calls,
      failures: tallies[index].failures,
      // CPU time of this (the calling) process per call; not known for autocannon's path.
      clientCpuMicrosPerCall: path.load ? undefined : tallies[index].cpuMicros / tallies[index].calls,
    }));
    const [viaDirect, sdk, bare, floorPath, bareWithTimeout, serverAlone] = measured;
    const throughApp = await benchThroughApp({
      config: { databaseUrl: database.url, plinthUrl: base, publishableKey, serviceKey, floorUrl },
      callers,
      warmupSeconds,
      seconds,
      rounds: Math.min(rounds, 3),
      log,
    });
    const sdkToDirect = sdk.callsPerSecond / viaDirect.callsPerSecond;
    // Extra time per call the SDK adds over a bare fetch of the same request, round by round.
    const sdkOverhead = median(pairOverheads);
    return {
      callers,
      warmupSeconds,
      seconds,
      rounds,
      query: `${statement} (10 000 rows); the SDK: from('bench_rows').select('${columns}').where({ id }).single()`,
      paths: measured,
      serverToDirect: serverAlone.callsPerSecond / viaDirect.callsPerSecond,
      // The most the SDK path could reach: a fetch whose server does nothing.
      floorToDirect: floorPath.callsPerSecond / viaDirect.callsPerSecond,
      sdkToDirect,
      throughApp,
      sdkOverhead: {
        extra: sdkOverhead,
        pairs: pairOverheads.length,
        pairSeconds: overheadSlice,
        quartiles: [quantile(pairOverheads, 0.25), quantile(pairOverheads, 0.75)],
        // The same over the whole run (ratio of totals), and over a bare fetch that also has a timeout.
        overall: bare.callsPerSecond / sdk.callsPerSecond - 1,
        overTimedFetch: bareWithTimeout.callsPerSecond / sdk.callsPerSecond - 1,
        goal: goals.sdkOverhead,
        met: sdkOverhead <= goals.sdkOverhead,
      },
    };
  } finally {
    await direct?.end({ timeout: 5 });
    if (server) await stopTarget(server);
    if (floor) await stopTarget(floor);
    await database.drop();
  }
}
