// The client's own CPU cost of one read, against supabase-js: the Plinth SDK's
// `from('t').select('id, name').where({ id }).single()` and supabase-js's
// `from('t').select('id,name').eq('id', id).single()`, each against a stub server (a child
// process, see client-stub-process.mjs) that answers at once in that client's wire format; and a
// bare `fetch` of each one's request (the same method, URL, headers and body, captured from the
// client itself, sent as a hand-written fetch would: fetch's default redirect mode, no signal),
// which says how much of each figure is the HTTP request and how much the client.
// The figure is CPU time of this process (user + system, process.cpuUsage) per call, so the stubs'
// work and the time spent waiting for them do not count. The four run in short slices, in an order
// that reverses every round, and each figure is the median over the rounds.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createClient } from '@plinth/client';
import { createClient as createSupabaseClient } from '@supabase/supabase-js';

/** The goal from the issue: the SDK's read costs no more CPU than supabase-js's. */
export const goal = 1;

// Ids the reads rotate through; the stubs answer any.
const rows = 10_000;
// An id a request is captured with, then replaced in the bare-fetch copy of its URL or body.
const sentinel = 7_654_321;

/** The `q` quantile of `values` (linear between the two nearest). */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  return sorted[below] + (sorted[Math.min(below + 1, sorted.length - 1)] - sorted[below]) * (at - below);
}

/** `callers` loops each calling `read(id)` until `seconds` have passed; calls, failures and this process's CPU µs. */
async function drive(read, { callers, seconds }) {
  const deadline = performance.now() + seconds * 1000;
  let calls = 0;
  let failures = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        try {
          await read((next++ % rows) + 1);
          calls++;
        } catch {
          failures++;
        }
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { calls, failures, cpuMicros: used.user + used.system };
}

/** Checks one answer of each path before measuring: each must read the row asked for. */
function expectRow(label, row, id) {
  if (row?.id !== id || row.name !== `row ${id}`)
    throw new Error(`${label} answered ${JSON.stringify(row)} for id ${id}`);
}

/** A `fetch` that remembers the first request it sends (method, URL, headers as an object, body). */
function capturingFetch() {
  const capturing = async (input, init) => {
    const request = new Request(input, init);
    capturing.request ??= {
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: request.method === 'GET' ? undefined : await request.clone().text(),
    };
    return fetch(request);
  };
  return capturing;
}

/** Splits `text` around the sentinel id, for copies of a captured request with other ids. */
function around(text, label) {
  const parts = text.split(String(sentinel));
  if (parts.length !== 2) throw new Error(`cannot find the id once in ${label}: ${text}`);
  return parts;
}

async function startStubs() {
  const child = fork(new URL('./client-stub-process.mjs', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the stub servers' process exited (${code})`)));
  });
  return { ...ready, stop: () => child.kill() };
}

/** Builds the four reads against the stubs, each checked once. */
async function setUpPaths({ plinthUrl, postgrestUrl }) {
  // Keys shaped like the real ones: Plinth's `pk_`/`sk_` and 256 random bits; supabase-js's
  // service_role key, a JWT (its signature is never checked here).
  const key = () => randomBytes(32).toString('base64url');
  const plinthKeys = { publishableKey: `pk_${key()}`, serviceKey: `sk_${key()}` };
  const jwtPart = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const supabaseKey = `${jwtPart({ alg: 'HS256', typ: 'JWT' })}.${jwtPart({ iss: 'supabase', role: 'service_role', exp: 1983812996 })}.${key()}`;
  // A server-side supabase-js client, as its docs set one up: no session to keep or refresh.
  // Node 20 has no global WebSocket, which supabase-js 2.119 wants at construction for realtime;
  // the benchmark opens no realtime channel, so it gets a constructor that is never called.
  const supabaseOptions = (fetch) => ({
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: {
      transport: class NoWebSocket {
        constructor() {
          throw new Error('the client benchmark opens no realtime connection');
        }
      },
    },
    ...(fetch && { global: { fetch } }),
  });

  // Each client's request, captured from the client itself.
  const plinthCapture = capturingFetch();
  const plinthProbe = createClient({ url: plinthUrl, ...plinthKeys, fetch: plinthCapture });
  await plinthProbe.from('t').select('id, name').where({ id: sentinel }).single();
  const supabaseCapture = capturingFetch();
  const supabaseProbe = createSupabaseClient(postgrestUrl, supabaseKey, supabaseOptions(supabaseCapture));
  const probed = await supabaseProbe.from('t').select('id,name').eq('id', sentinel).single();
  if (probed.error) throw new Error(`supabase-js failed against its stub: ${JSON.stringify(probed.error)}`);
  const plinthRequest = plinthCapture.request;
  const supabaseRequest = supabaseCapture.request;
  const [bodyBefore, bodyAfter] = around(plinthRequest.body, "the SDK's body");
  const [urlBefore, urlAfter] = around(supabaseRequest.url, "supabase-js's URL");

  const plinth = createClient({ url: plinthUrl, ...plinthKeys });
  const supabase = createSupabaseClient(postgrestUrl, supabaseKey, supabaseOptions());
  const plinthInit = { method: plinthRequest.method, headers: plinthRequest.headers };
  const supabaseInit = { method: supabaseRequest.method, headers: supabaseRequest.headers };
  const paths = [
    {
      label: 'Plinth SDK',
      read: (id) => plinth.from('t').select('id, name').where({ id }).single(),
    },
    {
      label: 'supabase-js',
      read: async (id) => {
        const { data, error } = await supabase.from('t').select('id,name').eq('id', id).single();
        if (error) throw new Error(error.message);
        return data;
      },
    },
    {
      label: "bare fetch of the SDK's request",
      read: async (id) => {
        const response = await fetch(plinthRequest.url, { ...plinthInit, body: `${bodyBefore}${id}${bodyAfter}` });
        if (!response.ok) throw new Error(`the Plinth stub answered ${response.status}`);
        return (await response.json()).rows[0];
      },
    },
    {
      label: "bare fetch of supabase-js's request",
      read: async (id) => {
        const response = await fetch(`${urlBefore}${id}${urlAfter}`, supabaseInit);
        if (!response.ok) throw new Error(`the PostgREST stub answered ${response.status}`);
        return response.json();
      },
    },
  ];
  for (const path of paths) expectRow(path.label, await path.read(42), 42);
  const describe = ({ method, url, headers, body }) => ({
    method,
    url,
    headers: Object.keys(headers).sort(),
    bodyBytes: body === undefined ? 0 : Buffer.byteLength(body),
  });
  return { paths, requests: { plinth: describe(plinthRequest), supabase: describe(supabaseRequest) } };
}

/**
 * The client benchmark: CPU µs per read of the four paths, the median over `rounds` slices of
 * `sliceSeconds` each (`callers` loops at once), after `warmupSeconds` of each; and the ratios
 * Plinth ÷ supabase-js of the SDKs and of their bare fetches, the median of each round's ratio.
 */
export async function benchClient({ log, callers, warmupSeconds, rounds, sliceSeconds }) {
  const stubs = await startStubs();
  try {
    const { paths, requests } = await setUpPaths(stubs);
    for (const path of paths) {
      log(`client, ${path.label}: ${warmupSeconds} s warm-up`);
      await drive(path.read, { callers, seconds: warmupSeconds });
    }
    log(`client: ${rounds} rounds of ${sliceSeconds} s per path, order reversing each round, ${callers} callers`);
    const perRound = paths.map(() => []);
    const tallies = paths.map(() => ({ calls: 0, failures: 0 }));
    for (let round = 0; round < rounds; round++) {
      const order = paths.map((_, index) => (round % 2 ? paths.length - 1 - index : index));
      for (const index of order) {
        const result = await drive(paths[index].read, { callers, seconds: sliceSeconds });
        perRound[index].push(result.calls > 0 ? result.cpuMicros / result.calls : Number.NaN);
        tallies[index].calls += result.calls;
        tallies[index].failures += result.failures;
      }
    }
    const measured = paths.map((path, index) => ({
      label: path.label,
      cpuMicrosPerCall: quantile(perRound[index], 0.5),
      quartiles: [quantile(perRound[index], 0.25), quantile(perRound[index], 0.75)],
      calls: tallies[index].calls,
      failures: tallies[index].failures,
    }));
    const [sdk, supabase, sdkFetch, supabaseFetch] = perRound;
    const ratios = (plinth, other) => plinth.map((micros, round) => micros / other[round]);
    const sdkRatios = ratios(sdk, supabase);
    const fetchRatios = ratios(sdkFetch, supabaseFetch);
    const sdkRatio = quantile(sdkRatios, 0.5);
    return {
      callers,
      warmupSeconds,
      rounds,
      sliceSeconds,
      reads: {
        plinth: "from('t').select('id, name').where({ id }).single()",
        supabase: "from('t').select('id,name').eq('id', id).single()",
      },
      requests,
      paths: measured,
      // Plinth ÷ supabase-js, the median of the rounds' ratios (a round's load falls on both).
      sdkRatio: {
        ratio: sdkRatio,
        quartiles: [quantile(sdkRatios, 0.25), quantile(sdkRatios, 0.75)],
        goal,
        met: sdkRatio <= goal,
      },
      fetchRatio: {
        ratio: quantile(fetchRatios, 0.5),
        quartiles: [quantile(fetchRatios, 0.25), quantile(fetchRatios, 0.75)],
      },
      // What each client adds over a bare fetch of its own request, µs per call (median of the rounds).
      overFetchMicros: {
        plinth: quantile(
          sdk.map((micros, round) => micros - sdkFetch[round]),
          0.5,
        ),
        supabase: quantile(
          supabase.map((micros, round) => micros - supabaseFetch[round]),
          0.5,
        ),
      },
    };
  } finally {
    stubs.stop();
  }
}
