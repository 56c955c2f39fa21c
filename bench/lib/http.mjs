// Requests per second with autocannon against servers in child processes (server-process.mjs):
// a constant-JSON Hono route (the baseline), then Plinth's `GET /v1/auth/me` with a session
// cookie on PGlite and on PostgreSQL. Only loopback addresses are loaded, for a bounded time.
import { fork } from 'node:child_process';
import autocannon from 'autocannon';
import { defaultRateRules } from '../../packages/server/dist/rate-limit/rate-limit-rules.js';
import { createBenchDatabase, probePostgres } from './postgres.mjs';

/** The goal set by the issue: `GET /v1/auth/me` at half the baseline's rate or better. */
export const goalRatio = 0.5;

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
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL']) delete env[name];
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

/** Forks a server process and waits until it answers (Plinth: signed in, cookie in hand). */
export async function startTarget(label, config) {
  const child = fork(serverProcess, [JSON.stringify(config)], {
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

/** One autocannon run against a target, adding what it saw to `tally` when given one. */
async function load(target, seconds, connections, tally) {
  const instance = autocannon({ url: target.url, headers: target.headers, connections, duration: seconds });
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
  };
}

/**
 * Loads every target: a warm-up each, then `rounds` slices each in an order that rotates every
 * round, so a change in the machine's load during the run (another process waking up) falls
 * on all targets alike rather than on whichever was measured then.
 */
async function measureAll(targets, settings) {
  const { seconds, warmupSeconds, connections, rounds, log } = settings;
  for (const target of targets) {
    log(`${target.label}: ${warmupSeconds} s warm-up`);
    await load(target, warmupSeconds, connections);
  }
  const slice = seconds / rounds;
  const tallies = targets.map(() => ({ latencies: [], non2xx: 0, errors: 0, timeouts: 0, seconds: 0 }));
  log(`measuring: ${rounds} rounds of ${slice} s per target, order rotating (${seconds} s each in all)`);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const index = (i + round) % targets.length;
      await load(targets[index], slice, connections, tallies[index]);
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
      targets.push(await startTarget(plan.label, plan.config));
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
