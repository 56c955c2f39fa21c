// The data API against the route an app would write by hand (`node bench/run.mjs data`): one
// select by primary key, `POST /v1/query` exactly as the SDK sends it, loaded by autocannon:
// - Plinth's server (startServer, the benchmark's schema, rate limits lifted) in a child process;
// - a hand-written Hono route in another (data-handwritten-process.mjs): a constant-time bearer
//   compare and the same select, prepared, with `postgres`;
// each once as the service role and once as a signed-in user under row-level security (the
// hand-written route setting the role and claims as Plinth does). The four are measured side by
// side, interleaved in rotating order (http.mjs's measureAll); ratio Plinth ÷ hand-written per
// case. Beside each: the server process's CPU time per request, and the database backends'.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createClient } from '@plinth/client';
import postgres from 'postgres';
import { measureAll, rateRules, serverCpuMicros, startTarget, stopTarget } from './http.mjs';
import { createBenchDatabase, postgresAdminUrl, probePostgres } from './postgres.mjs';

/** The goal set by the issue: Plinth at 0.7 of the hand-written route's rate or better, in both cases. */
export const goalRatio = 0.7;

const rows = 10_000;
// Requests with this many ids, spread over the table, in turn on each connection.
const distinctIds = 1000;
// Plinth's default statement timeout (statementTimeoutMs), which the hand-written route sets too.
const statementTimeoutMs = 10_000;
// An id the SDK's request is captured with, then replaced in the copies autocannon sends.
const sentinel = 7_654_321;
const handwrittenProcess = new URL('./data-handwritten-process.mjs', import.meta.url);

const expectedRow = (id) => ({ id, name: `row ${id}`, score: id % 97 });

function expectRow(label, row, id) {
  const expected = expectedRow(id);
  if (row?.id !== id || row.name !== expected.name || row.score !== expected.score) {
    throw new Error(`${label} answered ${JSON.stringify(row)} for id ${id}`);
  }
}

/**
 * What the SDK sends for a select of one row by id, as `client` (with or without `.as(…)`): the
 * path, headers (no request id) and the body split around the id.
 */
async function sdkRequest(server, actAs) {
  const { serviceKey, publishableKey } = server.headers;
  let captured;
  const capturing = async (input, init) => {
    const request = new Request(input, init);
    captured ??= {
      url: new URL(request.url),
      headers: new Headers(request.headers),
      body: await request.clone().text(),
    };
    return fetch(request);
  };
  const plinth = createClient({ url: server.url, publishableKey, serviceKey, fetch: capturing });
  const client = actAs === undefined ? plinth : plinth.as(actAs);
  const select = (id) => client.from('bench_rows').select('id, name, score').where({ id });
  expectRow(`the SDK through Plinth${actAs === undefined ? '' : ' as a user'}`, await select(1).single(), 1);
  captured = undefined;
  await select(sentinel).maybeSingle();
  if (!captured) throw new Error('the SDK made no request through its fetch');
  captured.headers.delete('x-request-id');
  const parts = captured.body.split(String(sentinel));
  if (parts.length !== 2) throw new Error(`cannot find the id in the SDK's body ${captured.body}`);
  return { path: captured.url.pathname, headers: Object.fromEntries(captured.headers), parts };
}

/** autocannon's `requests`: the SDK's request for `distinctIds` ids spread over the table. */
function requestsFor({ path, headers, parts }) {
  return Array.from({ length: distinctIds }, (_, i) => ({
    method: 'POST',
    path,
    headers,
    body: `${parts[0]}${1 + ((i * 7919) % rows)}${parts[1]}`,
  }));
}

/** One request to `url` as autocannon sends it, expecting `id`'s row. */
async function check(label, url, { path, headers, parts }, id) {
  const response = await fetch(new URL(path, url), { method: 'POST', headers, body: `${parts[0]}${id}${parts[1]}` });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${label} answered ${response.status}: ${text}`);
  const body = JSON.parse(text);
  if (body.rowCount !== 1) throw new Error(`${label} answered ${text} for id ${id}`);
  expectRow(label, body.rows[0], id);
}

/**
 * The CPU time of the database's backends so far, in µs (a running total: each backend's
 * utime + stime from /proc since the last reading); undefined where /proc does not show them.
 */
function databaseCpuMeter(admin, databaseName) {
  if (!existsSync('/proc/self/stat')) return undefined;
  let ticksPerSecond = 100;
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {}
  let previous = new Map();
  let total = 0;
  let seen = false;
  return async () => {
    const backends = await admin`SELECT pid FROM pg_stat_activity WHERE datname = ${databaseName}`;
    const current = new Map();
    for (const { pid } of backends) {
      try {
        // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        current.set(pid, Number(fields[11]) + Number(fields[12]));
      } catch {}
    }
    if (backends.length > 0 && current.size === 0) return undefined;
    for (const [pid, ticks] of current) total += ticks - (previous.get(pid) ?? 0);
    // The first reading only sets the start: backends older than the meter are not charged.
    if (!seen) total = 0;
    seen = true;
    previous = current;
    return (total * 1e6) / ticksPerSecond;
  };
}

/**
 * The data benchmark. `cleanups` receives what must run even if the process is interrupted
 * (dropping the PostgreSQL database it made).
 */
export async function benchData(settings) {
  const { log, cleanups } = settings;
  const unavailable = await probePostgres();
  if (unavailable) {
    log(`data API: skipped, ${unavailable}`);
    return { skipped: unavailable };
  }
  const database = await createBenchDatabase(cleanups);
  const databaseName = new URL(database.url).pathname.slice(1);
  const admin = postgres(postgresAdminUrl, { max: 1, onnotice: () => {} });
  let plinth;
  let handwritten;
  const rss = new Map();
  try {
    log('data API: starting Plinth on PostgreSQL with the benchmark schema, signing a user up and in');
    plinth = await startTarget('Plinth', { kind: 'data', database: database.url, rateRules });
    const { serviceKey, accessToken } = plinth.headers;
    // The server's public key (a hand-written app would be configured with it), and a check that
    // the schema put bench_rows under row-level security.
    const inDatabase = postgres(database.url, { max: 1, onnotice: () => {} });
    let secret;
    let relrowsecurity;
    try {
      [secret] = await inDatabase`SELECT value FROM plinth.server_secrets WHERE name = 'access_token_signing_keys'`;
      [{ relrowsecurity }] =
        await inDatabase`SELECT relrowsecurity FROM pg_class WHERE oid = 'public.bench_rows'::regclass`;
    } finally {
      await inDatabase.end();
    }
    if (!relrowsecurity) throw new Error('bench_rows has no row-level security; see bench/schema');
    const signingKeys = typeof secret?.value === 'string' ? JSON.parse(secret.value) : secret?.value;
    if (!signingKeys?.publicJwk) throw new Error("cannot read the server's public signing key");
    log('data API: starting the hand-written route');
    handwritten = await startTarget(
      'hand-written',
      {
        database: database.url,
        serviceKey,
        publicJwk: signingKeys.publicJwk,
        statementTimeoutMs,
        connections: settings.connections,
      },
      handwrittenProcess,
    );

    const service = await sdkRequest(plinth);
    const user = await sdkRequest(plinth, accessToken);
    if (user.headers['x-plinth-act-as'] === undefined) throw new Error('the SDK sent no x-plinth-act-as as a user');
    const databaseCpu = databaseCpuMeter(admin, databaseName);
    const meters = (server) => ({
      server: () => serverCpuMicros(server),
      ...(databaseCpu ? { database: databaseCpu } : {}),
    });
    const target = (label, server, request, caseName, role) => ({
      label,
      caseName,
      role,
      server,
      url: server.url,
      request,
      requests: requestsFor(request),
      meters: meters(server),
    });
    // The lean hand-written route answers the same request at another path.
    const lean = (request) => ({ ...request, path: `/lean${request.path}` });
    const targets = [
      target('Plinth, service role', plinth, service, 'service', 'plinth'),
      target('hand-written lean, service role', handwritten, lean(service), 'service', 'lean'),
      target('hand-written idiomatic, service role', handwritten, service, 'service', 'idiomatic'),
      target('Plinth, user under RLS', plinth, user, 'user', 'plinth'),
      target('hand-written lean, user under RLS', handwritten, lean(user), 'user', 'lean'),
      target('hand-written idiomatic, user under RLS', handwritten, user, 'user', 'idiomatic'),
    ];
    for (const { label, url, request } of targets) for (const id of [1, 42, rows]) await check(label, url, request, id);

    const measured = await measureAll(targets, settings);
    // The same answers after the load: the token and the sessions held out.
    for (const { label, url, request } of targets) await check(label, url, request, 4242);
    rss.set(plinth, await stopTarget(plinth));
    plinth = undefined;
    rss.set(handwritten, await stopTarget(handwritten));
    handwritten = undefined;

    const results = targets.map((target, index) => ({
      label: target.label,
      ...measured[index],
      serverRssMiB: rss.get(target.server),
    }));
    const caseOf = (name, title) => {
      const of = (role) => results.find((_, index) => targets[index].caseName === name && targets[index].role === role);
      const [plinthResult, leanResult, idiomaticResult] = ['plinth', 'lean', 'idiomatic'].map(of);
      const ratio = plinthResult.requestsPerSecond / leanResult.requestsPerSecond;
      return {
        name: title,
        plinth: plinthResult,
        handwritten: leanResult,
        idiomatic: idiomaticResult,
        ratio,
        goalMet: ratio >= goalRatio,
        ratioToIdiomatic: plinthResult.requestsPerSecond / idiomaticResult.requestsPerSecond,
      };
    };
    return {
      connections: settings.connections,
      warmupSeconds: settings.warmupSeconds,
      seconds: settings.seconds,
      rounds: settings.rounds,
      request: `POST ${service.path} ${service.parts.join('<id>')}, ${distinctIds} ids over ${rows} rows; as a user with x-plinth-act-as: <access token>`,
      handwritten:
        "Hono route: constant-time bearer compare, the id from the body, SELECT id, name, score FROM public.bench_rows WHERE id = $1 prepared with postgres; service: on connections that start as plinth_service; user: in a transaction opened with Plinth's SET LOCAL role, claims and statement_timeout. Lean: body from Node's stream, JSON written to Node's response (as Plinth does); idiomatic: c.req.json(), c.json()",
      rateLimits: 'every default rule lifted (as in the HTTP section), in memory',
      responseValidation: 'off (as with NODE_ENV=production)',
      cpu: `server: the server process's process.cpuUsage() over its measured slices ÷ responses; database: utime + stime of the database's backends (/proc) over the same slices ÷ responses${databaseCpu ? '' : ' (not available here)'}`,
      goalRatio,
      cases: [caseOf('service', 'service role'), caseOf('user', 'signed-in user under RLS')],
    };
  } finally {
    if (plinth) await stopTarget(plinth);
    if (handwritten) await stopTarget(handwritten);
    await admin.end({ timeout: 5 });
    await database.drop();
  }
}
