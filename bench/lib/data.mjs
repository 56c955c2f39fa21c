// The data API: one select by primary key, three ways, from this process against one PostgreSQL
// database: (1) through the SDK (`plinth.from(...).select(...).where({ id }).single()`) to a
// Plinth server in a child process; (2) the very same HTTP request with a bare `fetch`; (3) the
// same statement sent directly with `postgres` (porsager). Each runs as a fixed number of callers
// looping for a fixed time, interleaved in rotating order, so every figure is from the same run.
import { createClient } from '@plinth/client';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { rateRules, startTarget, stopTarget } from './http.mjs';
import { createBenchDatabase, probePostgres } from './postgres.mjs';

/** Goals from the issue: SDK path ≥ half the direct query's rate; SDK ≤ 10 % slower than bare fetch. */
export const goals = { sdkToDirect: 0.5, sdkOverhead: 0.1 };

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
  return { calls, failures, seconds: (performance.now() - started) / 1000 };
}

/** Checks one answer of each path before measuring: they must all read the same row. */
function expectRow(label, row, id) {
  if (row?.id !== id || row.name !== `row ${id}`) {
    throw new Error(`${label} answered ${JSON.stringify(row)} for id ${id}`);
  }
}

export async function benchData(settings) {
  const { log, cleanups, callers, warmupSeconds, seconds, rounds } = settings;
  const unavailable = await probePostgres();
  if (unavailable) {
    log(`data API: skipped, ${unavailable}`);
    return { skipped: unavailable };
  }
  const database = await createBenchDatabase(cleanups);
  let server;
  let direct;
  try {
    log('data API: starting Plinth on PostgreSQL with the benchmark schema');
    server = await startTarget('Plinth data API', { kind: 'data', database: database.url, rateRules });
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
    const viaFetch = async (id) => {
      const response = await fetch(captured.url, { method: 'POST', headers, body: `${before}${id}${after}` });
      if (!response.ok) throw new Error(`bare fetch answered ${response.status}`);
      const body = await response.json();
      if (body.rows.length !== 1) throw new Error('bare fetch found no row');
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
    ];
    for (const path of paths) expectRow(path.label, await path.run(42), 42);
    paths.push({ label: 'autocannon → server → PostgreSQL (server alone)', load: viaAutocannon });
    for (const path of paths) {
      log(`data API, ${path.label}: ${warmupSeconds} s warm-up`);
      if (path.load) await path.load(warmupSeconds);
      else await drive(path.run, { callers, seconds: warmupSeconds });
    }
    const slice = seconds / rounds;
    log(`data API: ${rounds} rounds of ${slice} s per path, order rotating, ${callers} callers each`);
    const tallies = paths.map(() => ({ calls: 0, failures: 0, seconds: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < paths.length; i++) {
        const index = (i + round) % paths.length;
        const path = paths[index];
        const result = path.load ? await path.load(slice) : await drive(path.run, { callers, seconds: slice });
        tallies[index].calls += result.calls;
        tallies[index].failures += result.failures;
        tallies[index].seconds += result.seconds;
      }
    }
    const measured = paths.map((path, index) => ({
      label: path.label,
      callsPerSecond: tallies[index].calls / tallies[index].seconds,
      calls: tallies[index].calls,
      failures: tallies[index].failures,
    }));
    const [viaDirect, sdk, bare, serverAlone] = measured;
    const sdkToDirect = sdk.callsPerSecond / viaDirect.callsPerSecond;
    // Extra time per call the SDK adds over a bare fetch of the same request.
    const sdkOverhead = bare.callsPerSecond / sdk.callsPerSecond - 1;
    return {
      callers,
      warmupSeconds,
      seconds,
      rounds,
      query: `${statement} (10 000 rows); the SDK: from('bench_rows').select('${columns}').where({ id }).single()`,
      paths: measured,
      serverToDirect: serverAlone.callsPerSecond / viaDirect.callsPerSecond,
      sdkToDirect: { ratio: sdkToDirect, goal: goals.sdkToDirect, met: sdkToDirect >= goals.sdkToDirect },
      sdkOverhead: { extra: sdkOverhead, goal: goals.sdkOverhead, met: sdkOverhead <= goals.sdkOverhead },
    };
  } finally {
    await direct?.end({ timeout: 5 });
    if (server) await stopTarget(server);
    await database.drop();
  }
}
