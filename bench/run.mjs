// `pnpm bench`: Plinth's benchmarks against the built packages (the root script builds first).
// Every figure comes with a ratio to a baseline measured in this same run: absolute numbers move
// with the machine and its load, ratios are what to compare between runs. See docs/benchmarks.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchClient } from './lib/client.mjs';
import { benchData } from './lib/data.mjs';
import { benchDurability, formatDurability } from './lib/durability.mjs';
import { benchEmbedded } from './lib/embedded.mjs';
import { benchHashing } from './lib/hashing.mjs';
import { benchHttp } from './lib/http.mjs';
import { describeMachine } from './lib/machine.mjs';
import { benchRealtime, formatRealtime, realtimeSettingsProblem } from './lib/realtime.mjs';
import { formatReport } from './lib/report.mjs';
import { benchSdk } from './lib/sdk.mjs';
import { benchSecrets, formatSecrets } from './lib/secrets.mjs';
import { benchStorage, formatStorage, uploadBytesProblem } from './lib/storage.mjs';
import { benchTiming } from './lib/timing.mjs';
import { benchWebhooks, formatWebhooks } from './lib/webhooks.mjs';

const settings = {
  // 3 s one at a time and 3 s four at once, alternating in 0.5 s slices.
  hashing: { seconds: 3, slices: 6 },
  // Per target: 2 s warm-up, then 8 s measured as 4 slices of 2 s, interleaved with the others.
  http: { connections: 10, warmupSeconds: 2, seconds: 8, rounds: 4 },
  // Per target (Plinth and the hand-written route, as the service role and as a user): 2 s warm-up,
  // then 8 s measured as 4 slices of 2 s, interleaved with the others.
  data: { connections: 10, warmupSeconds: 2, seconds: 8, rounds: 4 },
  // Per path: 2 s warm-up, then 6 s measured as 6 slices of 1 s, 10 callers looping; then the
  // SDK's overhead from 80 back-to-back pairs of 0.25 s slices (SDK, bare fetch).
  sdk: { callers: 10, warmupSeconds: 2, seconds: 6, rounds: 6, overheadPairs: 80, overheadSlice: 0.25 },
  // Per route and database: 20 warm-up requests, then 200 known and 200 unknown emails, shuffled,
  // one at a time with 20 ms between them.
  timing: { samples: 200, warmup: 20, pauseMs: 20 },
  // Per path: 1 s warm-up, then 6 s measured as 6 slices of 1 s, 4 callers; then pg_sleep(0.5).
  embedded: { callers: 4, warmupSeconds: 1, seconds: 6, rounds: 6, sleepSeconds: 0.5 },
  // Per path (the SDK, supabase-js, a bare fetch of each one's request): 1 s warm-up, then 20
  // rounds of one 0.5 s slice each, 4 callers looping, the order reversing every round.
  client: { callers: 4, warmupSeconds: 1, rounds: 20, sliceSeconds: 0.5 },
  // One file of PLINTH_BENCH_UPLOAD_BYTES (default 1 GiB) copied with cp, uploaded to Plinth and to
  // tus, in 3 rounds whose order rotates; the servers sample their RSS every 20 ms during uploads.
  storage: { bytes: Number(process.env.PLINTH_BENCH_UPLOAD_BYTES ?? 1024 ** 3), rounds: 3, rssSampleMs: 20 },
  // Latency: PLINTH_BENCH_REALTIME_RATE events/s (default 1000), 2 s warm-up, then
  // PLINTH_BENCH_REALTIME_SECONDS (default 10) per path. Throughput: 3 rounds, the order alternating,
  // of PLINTH_BENCH_REALTIME_EVENTS (default 20 000) to one subscriber and
  // PLINTH_BENCH_REALTIME_FANOUT_EVENTS (default 1 000) to each of PLINTH_BENCH_REALTIME_STREAMS
  // (default 1 000), Plinth writing 500 per transaction. Memory: that many streams opened and closed.
  realtime: {
    rate: Number(process.env.PLINTH_BENCH_REALTIME_RATE ?? 1000),
    warmupSeconds: 2,
    seconds: Number(process.env.PLINTH_BENCH_REALTIME_SECONDS ?? 10),
    streams: Number(process.env.PLINTH_BENCH_REALTIME_STREAMS ?? 1000),
    events: Number(process.env.PLINTH_BENCH_REALTIME_EVENTS ?? 20_000),
    fanoutEvents: Number(process.env.PLINTH_BENCH_REALTIME_FANOUT_EVENTS ?? 1000),
    rounds: 3,
    batch: 500,
    bodyBytes: 100,
  },
  secrets: { count: Number(process.env.PLINTH_BENCH_SECRETS_COUNT ?? 100_000), batchSize: 500, rounds: 3 },
  // PLINTH_BENCH_WEBHOOK_EVENTS (default 20 000) deliveries a round, 3 rounds, 32 attempts in flight.
  webhooks: { count: Number(process.env.PLINTH_BENCH_WEBHOOK_EVENTS ?? 20_000), rounds: 3, concurrency: 32 },
  // PGlite directories with 'sync' and 'none': per writer count (1, then 10 at once), 1 s warm-up
  // each, then 3 rounds of 3 s inserts per setting, the order alternating.
  durability: { writerCounts: [1, 10], warmupSeconds: 1, seconds: 3, rounds: 3 },
};

// `node bench/run.mjs timing` (or `pnpm bench timing`) runs only the sections named; none, all.
const sections = [
  'hashing',
  'http',
  'data',
  'sdk',
  'timing',
  'embedded',
  'client',
  'storage',
  'realtime',
  'secrets',
  'webhooks',
  'durability',
];
const chosen = process.argv.slice(2);
const unknownSections = chosen.filter((name) => !sections.includes(name));
if (unknownSections.length > 0) {
  process.stderr.write(
    `No benchmark section ${unknownSections.join(', ')}; the sections are: ${sections.join(', ')}.\n`,
  );
  process.exit(2);
}
const runs = (section) => chosen.length === 0 || chosen.includes(section);
const settingsProblem =
  (runs('storage') ? uploadBytesProblem(settings.storage.bytes) : undefined) ??
  (runs('realtime') ? realtimeSettingsProblem(settings.realtime) : undefined);
if (settingsProblem) {
  process.stderr.write(`${settingsProblem}\n`);
  process.exit(2);
}

const log = (line) => process.stderr.write(`· ${line}\n`);

// What must run even on Ctrl-C (dropping the PostgreSQL database the run made, removing the
// storage section's files). The server processes exit by themselves when this one goes (they
// watch their IPC channel).
const cleanups = [];
process.once('SIGINT', async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  process.exit(130);
});

const started = performance.now();
const machine = describeMachine();
const hashing = runs('hashing') ? await benchHashing({ ...settings.hashing, log }) : undefined;
const http = runs('http') ? await benchHttp({ ...settings.http, log, cleanups }) : undefined;
const data = runs('data') ? await benchData({ ...settings.data, log, cleanups }) : undefined;
const sdk = runs('sdk') ? await benchSdk({ ...settings.sdk, log, cleanups }) : undefined;
const timing = runs('timing') ? await benchTiming({ ...settings.timing, log, cleanups }) : undefined;
const embedded = runs('embedded') ? await benchEmbedded({ ...settings.embedded, log }) : undefined;
const client = runs('client') ? await benchClient({ ...settings.client, log }) : undefined;
const storage = runs('storage') ? await benchStorage({ ...settings.storage, log, cleanups }) : undefined;
const realtime = runs('realtime') ? await benchRealtime({ ...settings.realtime, log, cleanups }) : undefined;
const secrets = runs('secrets') ? await benchSecrets({ ...settings.secrets, log, cleanups }) : undefined;
const webhooks = runs('webhooks') ? await benchWebhooks({ ...settings.webhooks, log, cleanups }) : undefined;
const durability = runs('durability') ? await benchDurability({ ...settings.durability, log, cleanups }) : undefined;

const results = {
  date: new Date().toISOString(),
  note: 'One run on the machine below. Absolute figures depend on the machine and its load; compare the ratios.',
  machine,
  runSeconds: Math.round((performance.now() - started) / 100) / 10,
  sections: sections.filter(runs),
  hashing,
  http,
  data,
  sdk,
  timing,
  embedded,
  client,
  storage,
  realtime,
  secrets,
  webhooks,
  durability,
};

const resultsFile = fileURLToPath(new URL('./results/latest.json', import.meta.url));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

// report.mjs prints the other sections; storage.mjs and realtime.mjs print their own, last, as
// they run last.
const storageLines = storage ? [...formatStorage(storage), ''] : [];
const realtimeLines = realtime ? [...formatRealtime(realtime), ''] : [];
const secretsLines = secrets ? [...formatSecrets(secrets), ''] : [];
const webhooksLines = webhooks ? [...formatWebhooks(webhooks), ''] : [];
const durabilityLines = durability ? [...formatDurability(durability), ''] : [];
process.stdout.write(
  `${[formatReport(results), ...storageLines, ...realtimeLines, ...secretsLines, ...webhooksLines, ...durabilityLines].join('\n')}\nResults: ${resultsFile}\n`,
);

// A run whose requests were refused or failed measured the wrong thing: say so in the exit code.
const failed = [];
if (http) {
  failed.push(...http.targets.filter((target) => !target.skipped && (target.non2xx > 0 || target.errors > 0)));
  if (http.baseline.non2xx > 0 || http.baseline.errors > 0) failed.push(http.baseline);
}
for (const dataCase of data?.cases ?? []) {
  for (const target of [dataCase.plinth, dataCase.handwritten, dataCase.idiomatic]) {
    if (target.non2xx > 0 || target.errors > 0) failed.push(target);
  }
}
for (const path of [...(sdk?.paths ?? []), ...(sdk?.throughApp?.paths ?? [])]) {
  if (path.failures > 0) failed.push(path);
}
for (const path of client?.paths ?? []) {
  if (path.failures > 0) failed.push(path);
}
for (const target of storage?.targets ?? []) {
  if (target.failures > 0) failed.push(target);
}
for (const failure of realtime?.failures ?? []) failed.push({ label: `realtime ${failure}` });
for (const target of timing?.targets ?? []) {
  for (const route of target.routes ?? []) {
    if (route.failures > 0) failed.push({ label: `${target.label} ${route.route}` });
  }
}
if (failed.length > 0) {
  process.stderr.write(
    `\nNot every response was a 2xx: ${failed.map((target) => target.label).join(', ')}. These figures do not measure the intended path.\n`,
  );
  process.exitCode = 1;
}
