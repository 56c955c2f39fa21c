// Uploads of one large file (`node bench/run.mjs storage`): `cp` of the file on the same disk (the
// baseline), the SDK's `uploadToUrl` through a grant to Plinth's local driver, and tus-js-client's
// resumable upload to @tus/server's FileStore, all three to directories beside the source file,
// in rounds whose order rotates, each run after a `sync` so that the dirty pages of one do not
// land on the next. Plinth and tus run in child processes (storage-server-process.mjs) that also
// sample their own RSS during each upload.
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { createClient, uploadToUrl } from '@plinth/client';
import { Upload } from 'tus-js-client';
import { askChild } from './child-messages.mjs';
import { rateRules, serverCpuMicros, startTarget, stopTarget } from './http.mjs';
import { fixed, table } from './report.mjs';

/** The goals set by the issue. */
export const goals = { plinthToCp: 0.7, plinthToTus: 1.0, rssPeakGrowthMiB: 64 };

const serverProcess = new URL('./storage-server-process.mjs', import.meta.url);
const mib = 1024 * 1024;
const bucketName = 'bench-uploads';
// The disk must hold the source, one copy at a time and some room to spare.
const spaceFactor = 3;
// No upload may take longer than at this throughput (or 2 minutes, if longer): a stuck run stops.
const slowestBytesPerSecond = 5e6;

const mbPerSecond = (bytes, seconds) => bytes / seconds / 1e6;

function median(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs a command to its end; its wall time in seconds. A non-zero exit rejects with its stderr. */
function timed(command, args) {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const seconds = (performance.now() - began) / 1000;
      if (code === 0) resolve(seconds);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

const ask = (target, message, timeoutMs = 10_000) => askChild(target, message, timeoutMs);

/** A file of `bytes` random bytes at `path`, and its SHA-256 (hex), hashed as it is written. */
async function makeSourceFile(path, bytes) {
  const block = Buffer.alloc(Math.min(bytes, 8 * mib));
  const hash = createHash('sha256');
  const file = await open(path, 'wx');
  try {
    for (let written = 0; written < bytes; ) {
      const part = block.subarray(0, Math.min(block.length, bytes - written));
      randomFillSync(part);
      hash.update(part);
      await file.write(part);
      written += part.length;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

async function sha256Of(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

const cpuSecondsSince = (before) => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
};

/** `cp` of the source to a new file beside it; the copy is checked by size and removed. */
async function runCp(context, round) {
  const copy = join(context.directory, `cp-copy-${round + 1}.bin`);
  try {
    const seconds = await timed('cp', [...context.cpFlags, context.source, copy]);
    const { size } = await stat(copy);
    if (size !== context.bytes) throw new Error(`the copy has ${size} bytes, not ${context.bytes}`);
    return { seconds, afterRun: () => rm(copy, { force: true }) };
  } catch (error) {
    await rm(copy, { force: true });
    throw error;
  }
}

/**
 * One upload through a grant minted with the service key (not timed), sent by the SDK's
 * `uploadToUrl` from a Node stream of the file; timed from the PUT to the answer.
 */
async function runPlinth(context, round) {
  const { plinth, bytes } = context;
  const server = context.servers.plinth;
  const key = `round-${round + 1}.bin`;
  const bucket = plinth.storage.from(bucketName);
  const grant = await bucket.createUploadUrl(key);
  await ask(server, { type: 'rss-start' });
  const serverCpuBefore = await serverCpuMicros(server);
  const clientCpuBefore = process.cpuUsage();
  const began = performance.now();
  let object;
  let failure;
  try {
    object = await uploadToUrl(grant, createReadStream(context.source), {
      contentType: 'application/octet-stream',
      signal: AbortSignal.timeout(context.deadlineMs),
    });
  } catch (error) {
    failure = error;
  }
  const seconds = (performance.now() - began) / 1000;
  const clientCpuSeconds = cpuSecondsSince(clientCpuBefore);
  const serverCpuSeconds = ((await serverCpuMicros(server)) - serverCpuBefore) / 1e6;
  const rss = await ask(server, { type: 'rss-stop' });
  const afterRun = async () => {
    await bucket.remove([key]);
  };
  if (failure) {
    await afterRun();
    throw failure;
  }
  if (object.size !== bytes || object.sha256 !== context.sha256) {
    await afterRun();
    throw new Error(
      `the answered object has ${object.size} bytes and SHA-256 ${object.sha256}; the file has ${bytes} and ${context.sha256}`,
    );
  }
  return {
    seconds,
    clientCpuSeconds,
    serverCpuSeconds,
    rssStartMiB: rss.startMiB,
    rssPeakGrowthMiB: rss.peakGrowthMiB,
    afterRun,
  };
}

/**
 * One resumable upload with tus-js-client (creation, then the whole file in one PATCH: its Node
 * default), timed from `start()` to `onSuccess`; the stored file is checked by size and SHA-256.
 */
async function runTus(context, round) {
  const { bytes } = context;
  const server = context.servers.tus;
  await ask(server, { type: 'rss-start' });
  const serverCpuBefore = await serverCpuMicros(server);
  const clientCpuBefore = process.cpuUsage();
  let upload;
  const began = performance.now();
  const outcome = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      upload.abort(true).catch(() => {});
      resolve({ error: new Error(`no answer within ${context.deadlineMs / 1000} s`) });
    }, context.deadlineMs);
    upload = new Upload(createReadStream(context.source), {
      endpoint: server.url,
      uploadSize: bytes,
      metadata: { filename: `round-${round + 1}.bin`, filetype: 'application/octet-stream' },
      // A failure counts as one, as Plinth's would, instead of being retried within the timing.
      retryDelays: null,
      onSuccess: () => {
        clearTimeout(timer);
        resolve({});
      },
      onError: (error) => {
        clearTimeout(timer);
        resolve({ error });
      },
    });
    upload.start();
  });
  const seconds = (performance.now() - began) / 1000;
  const clientCpuSeconds = cpuSecondsSince(clientCpuBefore);
  const serverCpuSeconds = ((await serverCpuMicros(server)) - serverCpuBefore) / 1e6;
  const rss = await ask(server, { type: 'rss-stop' });
  // FileStore keeps an upload as <directory>/<id> beside <id>.json; the id ends the upload's URL.
  const id = upload.url ? new URL(upload.url).pathname.split('/').pop() : undefined;
  const stored = id ? join(context.tusDirectory, id) : undefined;
  const afterRun = async () => {
    if (!stored) return;
    await rm(stored, { force: true });
    await rm(`${stored}.json`, { force: true });
  };
  if (outcome.error || !stored) {
    await afterRun();
    throw outcome.error ?? new Error('tus-js-client reported success without an upload URL');
  }
  const { size } = await stat(stored);
  const sha256 = size === bytes ? await sha256Of(stored) : undefined;
  if (size !== bytes || sha256 !== context.sha256) {
    await afterRun();
    throw new Error(
      `the stored file has ${size} bytes and SHA-256 ${sha256}; the source has ${bytes} and ${context.sha256}`,
    );
  }
  return {
    seconds,
    clientCpuSeconds,
    serverCpuSeconds,
    rssStartMiB: rss.startMiB,
    rssPeakGrowthMiB: rss.peakGrowthMiB,
    afterRun,
  };
}

function summarise(target, bytes) {
  const done = target.runs.filter((run) => run.seconds !== undefined);
  const peaks = done.map((run) => run.rssPeakGrowthMiB).filter((value) => value !== undefined);
  const medianOf = (field) => median(done.map((run) => run[field]).filter((value) => value !== undefined));
  return {
    label: target.label,
    how: target.how,
    medianMBps: median(done.map((run) => mbPerSecond(bytes, run.seconds))),
    medianSeconds: medianOf('seconds'),
    medianSyncAfterSeconds: medianOf('syncAfterSeconds'),
    // Through the sync after the run: the time until the bytes are on disk.
    medianMBpsThroughSync: median(
      done
        .filter((run) => run.syncAfterSeconds !== undefined)
        .map((run) => mbPerSecond(bytes, run.seconds + run.syncAfterSeconds)),
    ),
    medianClientCpuSeconds: medianOf('clientCpuSeconds'),
    medianServerCpuSeconds: medianOf('serverCpuSeconds'),
    rssPeakGrowthMiB: peaks.length > 0 ? Math.max(...peaks) : undefined,
    failures: target.runs.length - done.length,
    runs: target.runs,
  };
}

/**
 * What is wrong with the file size asked for, or undefined: run.mjs asks before any section runs.
 *
 * @example
 * ```js
 * const problem = uploadBytesProblem(Number(process.env.PLINTH_BENCH_UPLOAD_BYTES ?? 1024 ** 3));
 * if (problem) throw new Error(problem);
 * ```
 */
export function uploadBytesProblem(bytes) {
  if (Number.isSafeInteger(bytes) && bytes >= 1) return undefined;
  return `PLINTH_BENCH_UPLOAD_BYTES must be a whole number of bytes ≥ 1, such as 67108864 (64 MiB); got ${bytes}.`;
}

/**
 * The storage benchmark: `rounds` rounds of `cp`, a Plinth upload and a tus upload of one file of
 * `bytes` random bytes, in an order that rotates every round; the median throughput of each, the
 * ratios Plinth ÷ cp and Plinth ÷ tus, and the Plinth server's RSS peak growth (max over rounds).
 * `cleanups` receives the removal of its temporary directory, so that Ctrl-C removes it too.
 * Returns `{ skipped }` when the disk has no room for `spaceFactor` times the file.
 *
 * @example
 * ```js
 * const cleanups = [];
 * const storage = await benchStorage({ bytes: 64 * 1024 * 1024, rounds: 3, rssSampleMs: 20, log: console.error, cleanups });
 * console.log(storage.plinthToCp.ratio, storage.plinthToTus.ratio, storage.rssPeakGrowth.mib);
 * ```
 */
export async function benchStorage({ bytes, rounds, rssSampleMs, log, cleanups }) {
  const problem = uploadBytesProblem(bytes);
  if (problem) throw new Error(problem);
  const loadAverageAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const directory = await mkdtemp(join(os.tmpdir(), 'plinth-bench-storage-'));
  const removeDirectory = () => rm(directory, { recursive: true, force: true });
  cleanups.push(removeDirectory);
  const { bavail, bsize } = statfsSync(directory);
  const available = bavail * bsize;
  if (available < spaceFactor * bytes) {
    cleanups.splice(cleanups.indexOf(removeDirectory), 1);
    await removeDirectory();
    const skipped = `${directory.slice(0, directory.lastIndexOf('/'))} has ${(available / 1024 ** 3).toFixed(1)} GiB free; the section needs ${spaceFactor} × the file (${((spaceFactor * bytes) / 1024 ** 3).toFixed(1)} GiB). Free some space or set a smaller PLINTH_BENCH_UPLOAD_BYTES.`;
    log(`storage: skipped, ${skipped}`);
    return { skipped };
  }

  const deadlineMs = Math.max(120_000, Math.ceil((bytes / slowestBytesPerSecond) * 1000));
  const context = {
    bytes,
    directory,
    deadlineMs,
    source: join(directory, 'source.bin'),
    tusDirectory: join(directory, 'tus'),
    // Linux's cp would share the blocks on a filesystem that can (btrfs, XFS), which copies nothing.
    cpFlags: process.platform === 'linux' ? ['--reflink=never'] : [],
    servers: {},
  };
  const targets = [
    {
      label: 'cp (baseline)',
      how: `${['cp', ...context.cpFlags].join(' ')} of the file to a new file beside it`,
      run: runCp,
    },
    {
      label: 'Plinth',
      how: 'uploadToUrl(grant, fs.createReadStream(file)) to PUT /v1/storage/uploads/:id, local driver',
      run: runPlinth,
    },
    { label: 'tus', how: 'tus-js-client (fs stream, one PATCH) to @tus/server, FileStore', run: runTus },
  ].map((target) => ({ ...target, runs: [] }));

  try {
    log(`storage: making a ${bytes}-byte file of random bytes in ${directory}`);
    context.sha256 = await makeSourceFile(context.source, bytes);
    await mkdir(join(directory, 'plinth'));
    await mkdir(context.tusDirectory);

    log('storage: starting Plinth (PGlite in memory, local driver) and @tus/server in child processes');
    context.servers.plinth = await startTarget(
      'Plinth',
      {
        kind: 'plinth',
        storageDir: join(directory, 'plinth'),
        rateRules,
        requestTimeoutMs: Math.min(3_600_000, deadlineMs + 10_000),
        rssSampleMs,
      },
      serverProcess,
    );
    context.servers.tus = await startTarget(
      'tus',
      { kind: 'tus', directory: context.tusDirectory, rssSampleMs },
      serverProcess,
    );
    const { url, headers } = context.servers.plinth;
    context.plinth = createClient({ url, publishableKey: headers.publishableKey, serviceKey: headers.serviceKey });
    await context.plinth.storage.createBucket({ name: bucketName, maxObjectBytes: bytes });

    log(`storage: ${rounds} rounds of cp, Plinth and tus, the order rotating; sync before each`);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(i + round) % targets.length];
        await timed('sync', []);
        try {
          const { afterRun, ...run } = await target.run(context, round);
          // Context, not the goal's figure: how long the disk then takes to hold what was written.
          run.syncAfterSeconds = await timed('sync', []);
          await afterRun();
          target.runs.push({ round: round + 1, ...run });
          log(
            `storage: round ${round + 1}, ${target.label}: ${mbPerSecond(bytes, run.seconds).toFixed(0)} MB/s (${run.seconds.toFixed(2)} s; sync after ${run.syncAfterSeconds.toFixed(2)} s)`,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          target.runs.push({ round: round + 1, error: message });
          log(`storage: round ${round + 1}, ${target.label}: FAILED, ${message}`);
        }
      }
    }
  } finally {
    for (const server of Object.values(context.servers)) await stopTarget(server);
    cleanups.splice(cleanups.indexOf(removeDirectory), 1);
    await removeDirectory();
  }

  const [cp, plinth, tus] = targets.map((target) => summarise(target, bytes));
  const ratio = (a, b) => (a === undefined || b === undefined ? undefined : a / b);
  const plinthToCp = ratio(plinth.medianMBps, cp.medianMBps);
  const plinthToTus = ratio(plinth.medianMBps, tus.medianMBps);
  return {
    bytes,
    rounds,
    rssSampleMs,
    loadAverageAtStart,
    sync: 'sync before each run; the sync right after each run is timed apart (context)',
    mb: '1 MB = 10^6 bytes',
    targets: [cp, plinth, tus],
    plinthToCp: {
      ratio: plinthToCp,
      goal: goals.plinthToCp,
      met: plinthToCp !== undefined && plinthToCp >= goals.plinthToCp,
    },
    tusToCp: ratio(tus.medianMBps, cp.medianMBps),
    plinthToTus: {
      ratio: plinthToTus,
      goal: goals.plinthToTus,
      met: plinthToTus !== undefined && plinthToTus >= goals.plinthToTus,
    },
    rssPeakGrowth: {
      mib: plinth.rssPeakGrowthMiB,
      goal: goals.rssPeakGrowthMiB,
      met: plinth.rssPeakGrowthMiB !== undefined && plinth.rssPeakGrowthMiB < goals.rssPeakGrowthMiB,
    },
    // Each up to the end of the sync after it: the time until the bytes are on disk.
    plinthToCpThroughSync: ratio(plinth.medianMBpsThroughSync, cp.medianMBpsThroughSync),
    plinthToTusThroughSync: ratio(plinth.medianMBpsThroughSync, tus.medianMBpsThroughSync),
  };
}

/**
 * The storage section of the printed report, as lines.
 *
 * @example
 * ```js
 * process.stdout.write(`${formatStorage(await benchStorage(settings)).join('\n')}\n`);
 * ```
 */
export function formatStorage(storage) {
  if (storage.skipped) return [`Uploads: skipped, ${storage.skipped}`];
  const verdict = (met) => (met ? 'met' : 'NOT met');
  const [cp, plinth, tus] = storage.targets;
  const row = (target, ratio) => [
    target.label,
    fixed(target.medianMBps, 0),
    fixed(target.medianSeconds, 2),
    target.runs
      .map((run) => (run.seconds === undefined ? 'failed' : mbPerSecond(storage.bytes, run.seconds).toFixed(0)))
      .join(' '),
    fixed(target.medianSyncAfterSeconds, 2),
    fixed(target.medianMBpsThroughSync, 0),
    fixed(target.medianClientCpuSeconds, 2),
    fixed(target.medianServerCpuSeconds, 2),
    fixed(target.rssPeakGrowthMiB, 1),
    String(target.failures),
    fixed(ratio, 2),
  ];
  const failures = storage.targets.flatMap((target) =>
    target.runs.filter((run) => run.error).map((run) => `  ${target.label}, round ${run.round}: ${run.error}`),
  );
  return [
    `Uploads of one ${storage.bytes.toLocaleString('en-US')}-byte file (${(storage.bytes / 1024 ** 3).toFixed(2)} GiB) of random bytes, on the disk it is on: ${storage.rounds} rounds, the order rotating; sync before each run; servers in child processes on 127.0.0.1; load average at the section's start: ${storage.loadAverageAtStart.join(' ')}`,
    ...storage.targets.map((target) => `  ${target.label}: ${target.how}`),
    ...table(
      [
        'target',
        'MB/s',
        's',
        'MB/s by round',
        'sync after s',
        'MB/s through sync',
        'client CPU s',
        'server CPU s',
        'server RSS peak +MiB',
        'failures',
        'ratio',
      ],
      [row(cp, 1), row(plinth, storage.plinthToCp.ratio), row(tus, storage.tusToCp)],
    ),
    '  medians of the rounds; MB = 10^6 bytes; ratio: ÷ cp; RSS: the peak over the RSS at the start of the upload, sampled every ' +
      `${storage.rssSampleMs} ms, max over the rounds; through sync: up to the end of the sync after the run (Plinth fsyncs before it answers, cp and FileStore do not).`,
    `  Plinth ÷ cp: ${fixed(storage.plinthToCp.ratio, 2)} (goal ≥ ${storage.plinthToCp.goal}: ${verdict(storage.plinthToCp.met)}); Plinth ÷ tus: ${fixed(storage.plinthToTus.ratio, 2)} (goal ≥ ${storage.plinthToTus.goal}: ${verdict(storage.plinthToTus.met)}); Plinth server's RSS peak growth: ${fixed(storage.rssPeakGrowth.mib, 1)} MiB (goal < ${storage.rssPeakGrowth.goal} MiB: ${verdict(storage.rssPeakGrowth.met)})`,
    `  through sync (context): Plinth ÷ cp ${fixed(storage.plinthToCpThroughSync, 2)}, Plinth ÷ tus ${fixed(storage.plinthToTusThroughSync, 2)}`,
    ...failures,
  ];
}
