// Requests per second with autocannon against servers in child processes (server-process.mjs):
// a constant-JSON Hono route (the baseline), then Plinth's `GET /v1/auth/me` with a session
// cookie on PGlite and on PostgreSQL. Only loopback addresses are loaded, for a bounded time.
import { fork } from 'node:child_process';
import autocannon from 'autocannon';
import { defaultRateRules } from '../../packages/server/dist/features.js';
import { createBenchDatabase, probePostgres } from './postgres.mjs';

/** The goal set by the issue: `GET /v1/auth/me` at 0.8 of the baseline's rate or better. */
export const goalRatio = 0.8;

/**
 * Every default rate rule lifted so far that the benchmark never meets it: the run measures the
 * request path, not the limiter refusing (the in-memory limiter still takes a token per request).
 */
export const generousRule = { capacity: 1e9, refillPerSecond: 1e9 };
export const rateRules = Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generousRule]));

const serverProcess = new URL('./server-process.mjs', import.meta.url);

// The server picks its database, Redis and SMTP from the environment when not told; the
// benchmark decides them itself (in-memory rate limits, the outbox mailer).
function serverEnv() {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'PORT']) delete env[name];
  // Any PLINTH_* setting in the shell (a port, a data login URL) would reach every server too.
  for (const name of Object.keys(env))
    if (name.startsWith('PLINTH_') && !name.startsWith('PLINTH_BENCH_')) delete env[name];
  return env;
}

function nextMessage(child, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: the server process exited (${code})`));
    };
    child.once('exit', onExit);
    child.once('message', (message) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      if (message.type === 'error') reject(new Error(`${what}: ${message.message}`));
      else resolve(message);
    });
  });
}

/**
 * Forks a server process (server-process.mjs unless `script` names another that speaks the same
 * IPC) and waits until it answers (Plinth: signed in, cookie in hand).
 */
export async function startTarget(label, config, script = serverProcess) {
  const child = fork(script, [JSON.stringify(config)], {
    env: serverEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = await nextMessage(child, 60_000, `starting ${label}`);
    return { label, child, url: ready.url, headers: ready.headers };
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** Stops a server process; its RSS just before, in MiB (undefined if it had to be killed). */
export async function stopTarget(target) {
  target.child.send({ type: 'close' });
  try {
    const closed = await nextMessage(target.child, 20_000, `stopping ${target.label}`);
    return closed.rssMiB;
  } catch (error) {
    // Stopped the hard way; the other targets and the database still get cleaned up.
    target.child.kill();
    process.stderr.write(`${error.message}\n`);
    return undefined;
  }
}

/**
 * The CPU time (user + system) a server process has used so far, in µs, from
 * `process.cpuUsage()` in that process (asked over IPC).
 */
export async function serverCpuMicros(target) {
  target.child.send({ type: 'cpu' });
  const answer = await nextMessage(target.child, 5_000, `CPU time of ${target.label}`);
  return answer.micros;
}

/**
 * One autocannon run against a target, adding what it saw to `tally` when given one. A target's
 * `requests` (autocannon's option: method, path, headers, body each) replace the plain GET of
 * its URL.
 */
async function load(target, seconds, connections, tally) {
  const instance = autocannon({
    url: target.url,
    headers: target.headers,
    ...(target.requests ? { requests: target.requests } : {}),
    connections,
    duration: seconds,
  });
  if (tally) {
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) tally.latencies.push(responseTime);
      else tally.non2xx++;
    });
  }
  const result = await instance;
  if (tally) {
    tally.seconds += result.duration;
    tally.errors += result.errors;
    tally.timeouts += result.timeouts;
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function summarise(tally) {
  const sorted = Float64Array.from(tally.latencies).sort();
  const requests = sorted.length + tally.non2xx;
  const meters = Object.entries(tally.meters);
  return {
    requestsPerSecond: requests / tally.seconds,
    requests,
    seconds: Math.round(tally.seconds * 100) / 100,
    latencyMs: {
      average: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    },
    non2xx: tally.non2xx,
    errors: tally.errors,
    timeouts: tally.timeouts,
    ...(meters.length > 0
      ? {
          cpuMicrosPerRequest: Object.fromEntries(
            meters.map(([name, micros]) => [name, micros === undefined ? undefined : micros / requests]),
          ),
        }
      : {}),
  };
}

/**
 * Loads every target: a warm-up each, then `rounds` slices each in an order that rotates every
 * round, so a change in the machine's load during the run (another process waking up) falls
 * on all targets alike rather than on whichever was measured then. A target's `meters` (name →
 * async function giving a running total of CPU µs, or undefined when unknown) are read around
 * each of its measured slices; the summary gives each per request.
 */
export async function measureAll(targets, settings) {
  const { seconds, warmupSeconds, connections, rounds, log } = settings;
  for (const target of targets) {
    log(`${target.label}: ${warmupSeconds} s warm-up`);
    await load(target, warmupSeconds, connections);
  }
  const slice = seconds / rounds;
  const tallies = targets.map((target) => ({
    latencies: [],
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    seconds: 0,
    meters: Object.fromEntries(Object.keys(target.meters ?? {}).map((name) => [name, 0])),
  }));
  const readMeters = async (target) => {
    const readings = {};
    for (const [name, read] of Object.entries(target.meters ?? {})) readings[name] = await read();
    return readings;
  };
  log(`measuring: ${rounds} rounds of ${slice} s per target, order rotating (${seconds} s each in all)`);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const index = (i + round) % targets.length;
      const before = await readMeters(targets[index]);
      await load(targets[index], slice, connections, tallies[index]);
      const after = await readMeters(targets[index]);
      const { meters } = tallies[index];
      for (const name of Object.keys(meters)) {
        const used = after[name] === undefined || before[name] === undefined ? undefined : after[name] - before[name];
        meters[name] = meters[name] === undefined || used === undefined ? undefined : meters[name] + used;
      }
    }
  }
  return tallies.map(summarise);
}

/**
 * The HTTP benchmark. `cleanups` receives what must run even if the process is interrupted
 * (dropping the PostgreSQL database it made).
 */
export async function benchHttp(settings) {
  const { log, cleanups } = settings;
  const plans = [
    { label: 'baseline (Hono constant JSON)', config: { kind: 'baseline' } },
    { label: 'Plinth on PGlite', config: { kind: 'plinth', database: 'memory', rateRules } },
  ];
  const skipped = [];
  let database;
  const unavailable = await probePostgres();
  if (unavailable) {
    log(`Plinth on PostgreSQL: skipped, ${unavailable}`);
    skipped.push({ label: 'Plinth on PostgreSQL', skipped: unavailable });
  } else {
    database = await createBenchDatabase(cleanups);
    plans.push({ label: 'Plinth on PostgreSQL', config: { kind: 'plinth', database: database.url, rateRules } });
  }

  const targets = [];
  let measured;
  const rss = [];
  try {
    for (const plan of plans) {
      log(`${plan.label}: starting${plan.config.kind === 'plinth' ? ', signing up and in' : ''}`);
      const target = await startTarget(plan.label, plan.config);
      target.meters = { server: () => serverCpuMicros(target) };
      targets.push(target);
    }
    measured = await measureAll(targets, settings);
  } finally {
    for (const target of targets) rss.push(await stopTarget(target));
    await database?.drop();
  }

  const results = targets.map((target, index) => ({
    label: target.label,
    request: `GET ${new URL(target.url).pathname}`,
    ...measured[index],
    serverRssMiB: rss[index],
  }));
  const [baseline, ...compared] = results;
  return {
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds,
    rounds: settings.rounds,
    rateLimits: `every default rule (${Object.keys(rateRules).join(', ')}) lifted to capacity ${generousRule.capacity}, refill ${generousRule.refillPerSecond}/s, in memory`,
    responseValidation: 'off (as with NODE_ENV=production)',
    goalRatio,
    baseline,
    targets: [
      ...compared.map((result) => ({
        ...result,
        ratio: result.requestsPerSecond / baseline.requestsPerSecond,
        goalMet: result.requestsPerSecond / baseline.requestsPerSecond >= goalRatio,
      })),
      ...skipped,
    ],
  };
}
