// Account enumeration by timing: do sign-up, magic link and password reset take as long for an
// email that has an account as for one that has none? Per route, known and unknown emails are
// sent one at a time in a shuffled order against Plinth in a child process (server-process.mjs),
// and the two sets of response times are compared with Welch's z. On PGlite, then on PostgreSQL.
import { generousRule, rateRules, startTarget, stopTarget } from './http.mjs';
import { createBenchDatabase, probePostgres } from './postgres.mjs';

/** |z| at or above this tells known from unknown emails; below, the samples do not. */
export const goalAbsZ = 3;

const knownEmail = 'known@bench.example';
const password = 'correct horse battery staple';

/** What each route is sent; `n` makes unknown emails unique, so none becomes known. */
const routes = [
  {
    route: 'POST /v1/auth/sign-up',
    path: '/v1/auth/sign-up',
    body: (email) => ({ email, password }),
  },
  { route: 'POST /v1/auth/magic-link', path: '/v1/auth/magic-link', body: (email) => ({ email }) },
  { route: 'POST /v1/auth/reset-password', path: '/v1/auth/reset-password', body: (email) => ({ email }) },
];

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fisher–Yates, so known and unknown samples interleave with no pattern a drift could follow. */
function shuffle(items) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function meanAndVariance(values) {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

/**
 * Welch's z of two samples: (mean_a − mean_b) / sqrt(var_a/n_a + var_b/n_b), sample variances.
 *
 * @example
 * ```js
 * welchZ([1, 2, 3], [1, 2, 3]); // 0
 * ```
 */
export function welchZ(a, b) {
  const x = meanAndVariance(a);
  const y = meanAndVariance(b);
  return (x.mean - y.mean) / Math.sqrt(x.variance / a.length + y.variance / b.length);
}

/** One request; its time in ms from sending to the whole body read, and whether it was accepted. */
async function timed(url, body) {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  return { ms, ok: response.status === 200 && text.includes('"accepted":true') };
}

async function measureRoute(base, plan, settings, runId) {
  const { samples, warmup, pauseMs } = settings;
  let unknownCount = 0;
  const unknownEmail = () => `nobody-${runId}-${plan.path.split('/').at(-1)}-${unknownCount++}@bench.example`;
  const send = (kind) => timed(`${base}${plan.path}`, plan.body(kind === 'known' ? knownEmail : unknownEmail()));
  for (let i = 0; i < warmup; i++) {
    await send(i % 2 === 0 ? 'known' : 'unknown');
    await pause(pauseMs);
  }
  const order = shuffle([...Array(samples).fill('known'), ...Array(samples).fill('unknown')]);
  const times = { known: [], unknown: [] };
  let failures = 0;
  for (const kind of order) {
    const { ms, ok } = await send(kind);
    if (!ok) failures++;
    times[kind].push(ms);
    // What a route does after answering (the account, the token, the mail) finishes before the
    // next request, so it lands on no sample of either kind.
    await pause(pauseMs);
  }
  const known = meanAndVariance(times.known);
  const unknown = meanAndVariance(times.unknown);
  const z = welchZ(times.known, times.unknown);
  return {
    route: plan.route,
    known: { samples: times.known.length, meanMs: known.mean, sdMs: Math.sqrt(known.variance) },
    unknown: { samples: times.unknown.length, meanMs: unknown.mean, sdMs: Math.sqrt(unknown.variance) },
    differenceMs: known.mean - unknown.mean,
    z,
    met: Math.abs(z) < goalAbsZ,
    failures,
  };
}

/**
 * The timing benchmark, on PGlite and (when it answers) PostgreSQL. `cleanups` receives what must
 * run even if the process is interrupted (dropping the PostgreSQL database it made).
 */
export async function benchTiming(settings) {
  const { log, cleanups } = settings;
  const targets = [];
  const plans = [{ label: 'Plinth on PGlite', database: 'memory' }];
  const unavailable = await probePostgres();
  let database;
  if (unavailable) {
    log(`timing on PostgreSQL: skipped, ${unavailable}`);
  } else {
    database = await createBenchDatabase(cleanups);
    plans.push({ label: 'Plinth on PostgreSQL', database: database.url });
  }
  const runId = Date.now().toString(36);
  try {
    for (const plan of plans) {
      log(`timing, ${plan.label}: starting, signing up ${knownEmail}`);
      const target = await startTarget(plan.label, { kind: 'timing', database: plan.database, rateRules, knownEmail });
      try {
        const base = new URL(target.url).origin;
        const results = [];
        for (const route of routes) {
          log(
            `timing, ${plan.label}: ${route.route}, ${settings.samples} known + ${settings.samples} unknown, shuffled`,
          );
          results.push(await measureRoute(base, route, settings, runId));
        }
        targets.push({ label: plan.label, routes: results });
      } finally {
        await stopTarget(target);
      }
    }
  } finally {
    await database?.drop();
  }
  if (unavailable) targets.push({ label: 'Plinth on PostgreSQL', skipped: unavailable });
  return {
    samples: settings.samples,
    warmup: settings.warmup,
    pauseMs: settings.pauseMs,
    goalAbsZ,
    rateLimits: `every default rule lifted to capacity ${generousRule.capacity}, refill ${generousRule.refillPerSecond}/s, in memory`,
    targets,
  };
}
