// Realtime (`node bench/run.mjs realtime`): Plinth's event streams against a bare Hono SSE
// endpoint that pushes the same messages with no log behind it, both in child processes
// (realtime-server-process.mjs); the subscribers run here. Three parts: the latency from a write
// to `onEvent` at a steady rate (Plinth on PGlite and on PostgreSQL), the events delivered per
// second to one subscriber and to many, and the server's memory with many streams open and after
// they close (those two on PostgreSQL when it answers, else on PGlite).
import http from 'node:http';
import os from 'node:os';
import { createClient } from '@plinth/client';
import { subscribe } from '@plinth/realtime';
import { askChild } from './child-messages.mjs';
import { rateRules, serverCpuMicros, startTarget, stopTarget } from './http.mjs';
import { createBenchDatabase, probePostgres } from './postgres.mjs';
import { fixed, table } from './report.mjs';

/** The goals set by the issue. */
export const goals = { latencyP99Ms: 50, plinthToBare: 0.5, rssLeftAfterCloseMiB: 5 };

const serverProcess = new URL('./realtime-server-process.mjs', import.meta.url);
const streamPath = '/v1/realtime/stream';
// Tickets outlive the run: an expiry mid-run would end streams and measure the renewal.
const ticketSeconds = 3600;
// Opened at once, at most: a burst of thousands of connections would overflow the listen backlog.
const openAtOnce = 50;
// Events through every stream of the memory part before they close.
const memoryEvents = 100;

/**
 * Microseconds on the system's monotonic clock (CLOCK_MONOTONIC on Linux, shared by every
 * process of the machine), so that a stamp made in the server's process can be read here.
 *
 * @example
 * ```js
 * const stamp = nowUs(); // in one process; in another, on the same machine:
 * const latencyMs = (nowUs() - stamp) / 1000;
 * ```
 */
export const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Calls `send(n, dueUs)` for n = 0 … count − 1 at `rate` a second, the n-th due `n / rate` s after
 * the start, without waiting for earlier calls to settle (up to `maxInFlight` at once). Each is
 * stamped with the time it was due, not the time it went out, so a writer held back by slow
 * writes shows as latency instead of silently lowering the rate. Resolves once every call has
 * settled.
 *
 * @example
 * ```js
 * const { written, failures, seconds } = await pace({ rate: 1000, count: 12_000, send: (n, dueUs) => write(n, dueUs) });
 * ```
 */
export function pace({ rate, count, send, maxInFlight = 64 }) {
  return new Promise((resolve) => {
    const startUs = nowUs();
    let next = 0;
    let settled = 0;
    let failures = 0;
    let firstError;
    let inFlight = 0;
    let mostInFlight = 0;
    let timer;
    const tick = () => {
      clearTimeout(timer);
      timer = undefined;
      const due = Math.min(count, Math.floor(((nowUs() - startUs) * rate) / 1e6) + 1);
      while (next < due && inFlight < maxInFlight) {
        const n = next++;
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          Promise.resolve(send(n, startUs + Math.round((n * 1e6) / rate))).then(finish, fail);
        } catch (error) {
          // Told after this loop, so that fail() does not tick inside it.
          queueMicrotask(() => fail(error));
        }
      }
      // Held back by the cap, the next write goes out when one settles (finish ticks).
      if (next < count && inFlight < maxInFlight) timer = setTimeout(tick, 1);
    };
    function finish() {
      inFlight--;
      if (++settled === count) {
        resolve({ written: count - failures, failures, firstError, seconds: (nowUs() - startUs) / 1e6, mostInFlight });
      } else if (next < count && timer === undefined) {
        tick();
      }
    }
    function fail(error) {
      failures++;
      firstError ??= error instanceof Error ? error.message : String(error);
      finish();
    }
    if (count === 0) resolve({ written: 0, failures: 0, seconds: 0, mostInFlight: 0 });
    else tick();
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const ask = (target, message, timeoutMs = 20_000) => askChild(target, message, timeoutMs);

/** `promise`, or a rejection saying `what` did not happen within `ms`. */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Runs `task` on every item, at most `limit` at once; the results in order. */
async function inBatches(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Counts, over a group of subscribers, how many have received `goal` events: `expect(count)`
 * raises the goal by `count` and resolves once every subscriber has reached it.
 */
function makeTracker(size) {
  let goal = 0;
  let reached = 0;
  let resolve = () => {};
  return {
    expect(count) {
      goal += count;
      reached = 0;
      return new Promise((done) => {
        resolve = done;
      });
    },
    hit(received) {
      if (received === goal && ++reached === size) resolve();
    },
    get goal() {
      return goal;
    },
  };
}

/**
 * One light subscriber on `node:http`: counts the `\n\n`-separated messages that carry an id,
 * checks that ids grow, and resolves once the server's `ready` arrived. No SSE parser, no JSON.
 */
function openReader(url, headers, onEvent) {
  return new Promise((resolve, reject) => {
    const reader = { received: 0, lastId: -1, disorder: 0, ended: false, close: () => request.destroy() };
    let ready = false;
    let buffer = '';
    const request = http.get(
      url,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (response) => {
        const type = String(response.headers['content-type']);
        if (response.statusCode !== 200 || !type.startsWith('text/event-stream')) {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => {
            text += chunk;
          });
          response.on('end', () => reject(new Error(`the stream answered ${response.statusCode} ${type}: ${text}`)));
          return;
        }
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          buffer += chunk;
          let start = 0;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n', start)) {
            if (buffer.startsWith('id: ', start)) {
              const id = Number(buffer.slice(start + 4, buffer.indexOf('\n', start)));
              if (id <= reader.lastId) reader.disorder++;
              reader.lastId = id;
              reader.received++;
              onEvent(reader);
            } else if (buffer.startsWith('retry: ', start) && !ready) {
              // `ready` (retry, id, event, data): the stream is attached; what is written now arrives.
              ready = true;
              resolve(reader);
            } else if (buffer.startsWith('event: end', start)) {
              reader.ended = true;
            }
            start = end + 2;
          }
          buffer = buffer.slice(start);
        });
        response.on('close', () => {
          reader.ended = true;
        });
      },
    );
    request.on('error', (error) => {
      reader.ended = true;
      if (!ready) reject(error);
    });
  });
}

/** `size` light readers of a server's stream, opened `openAtOnce` at a time. */
async function openReaders(target, headersList) {
  const tracker = makeTracker(headersList.length);
  const onEvent = (reader) => tracker.hit(reader.received);
  const url = `${target.url}${streamPath}`;
  const readers = [];
  try {
    await inBatches(headersList, openAtOnce, async (headers) => {
      readers.push(await openReader(url, headers, onEvent));
    });
  } catch (error) {
    for (const reader of readers) reader.close();
    throw error;
  }
  return {
    size: readers.length,
    client: 'node:http readers counting messages',
    expect: (count) => tracker.expect(count),
    goal: () => tracker.goal,
    state: () => {
      const received = readers.map((reader) => reader.received);
      return {
        fewest: Math.min(...received),
        most: Math.max(...received),
        disorder: readers.reduce((sum, reader) => sum + reader.disorder, 0),
        ended: readers.filter((reader) => reader.ended).length,
      };
    },
    close: () => {
      for (const reader of readers) reader.close();
    },
  };
}

/** One subscriber through the SDK's `subscribe()`, counting the events of type `bench`. */
async function openSdkSubscriber(ticket) {
  const tracker = makeTracker(1);
  let received = 0;
  const errors = [];
  const subscription = await subscribe(ticket, {
    onEvent: (event) => {
      if (event.type !== 'bench') return;
      tracker.hit(++received);
    },
    onError: (error) => errors.push(error instanceof Error ? error.message : String(error)),
  });
  return {
    size: 1,
    client: 'the SDK: subscribe(ticket, { onEvent })',
    expect: (count) => tracker.expect(count),
    goal: () => tracker.goal,
    state: () => ({
      fewest: received,
      most: received,
      disorder: 0,
      ended: subscription.status === 'closed' ? 1 : 0,
      errors,
    }),
    close: () => subscription.close(),
  };
}

/** What a subscriber of the bare server presents: it checks no ticket, the SDK needs one. */
const bareTicket = (target) => ({
  ticket: 'bare',
  url: `${target.url}${streamPath}`,
  expiresAt: new Date(Date.now() + ticketSeconds * 1000).toISOString(),
});

/**
 * One latency path: `count` writes at `rate` (the first `warmup` not counted), one SDK subscriber;
 * per event, the time from when its write was due to `onEvent`.
 */
async function measureLatency(context, path) {
  const { rate, warmupSeconds, seconds } = context.settings;
  const warmup = Math.round(rate * warmupSeconds);
  const count = warmup + Math.round(rate * seconds);
  const latencies = [];
  const errors = [];
  let received = 0;
  let finished = () => {};
  const allIn = new Promise((resolve) => {
    finished = resolve;
  });
  const subscription = await subscribe(await path.ticket(), {
    onEvent: (event) => {
      const at = nowUs();
      const stamp = path.read(event);
      if (!stamp) return;
      received++;
      if (stamp.n >= warmup) latencies.push((at - stamp.sentUs) / 1000);
      // Writes over HTTP may commit out of order: done when every event is in, not the last n.
      if (received === count) finished();
    },
    onError: (error) => errors.push(error instanceof Error ? error.message : String(error)),
  });
  let writes;
  try {
    writes = await path.write({ rate, count });
    // The last write has settled; its event is at most a moment away, or lost.
    await Promise.race([allIn, sleep(10_000)]);
  } finally {
    subscription.close();
  }
  const sorted = Float64Array.from(latencies).sort();
  const measured = count - warmup;
  return {
    label: path.label,
    how: path.how,
    written: writes.written,
    writeFailures: writes.failures,
    firstWriteError: writes.firstError,
    writesPerSecond: count / writes.seconds,
    mostWritesInFlight: writes.mostInFlight,
    events: sorted.length,
    lost: measured - sorted.length,
    received,
    latencyMs: {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1],
      mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    },
    errors: errors.slice(0, 5),
    ...(path.goal ? { goal: true, met: percentile(sorted, 99) < goals.latencyP99Ms } : {}),
  };
}

/**
 * One round of the throughput part on one target: `count` events published, timed until every
 * subscriber of `group` has received all of them.
 */
async function deliverRound(context, target, group, count) {
  const { batch } = context.settings;
  const deliveries = group.size * count;
  const serverCpuBefore = await serverCpuMicros(target);
  const clientCpuBefore = process.cpuUsage();
  const began = performance.now();
  const arrived = group.expect(count);
  const published = ask(
    target,
    { type: 'publish', channel: context.channel, count, batch, body: context.body },
    30_000 + deliveries / 5,
  );
  try {
    await within(Promise.all([arrived, published]), 30_000 + deliveries / 5, 'not every event arrived');
  } catch (error) {
    const state = group.state();
    throw new Error(
      `${error.message}: each subscriber should have had ${group.goal()} events; the fewest had ${state.fewest}, the most ${state.most}; ${state.ended} streams ended`,
    );
  }
  const seconds = (performance.now() - began) / 1000;
  const client = process.cpuUsage(clientCpuBefore);
  const serverCpuSeconds = ((await serverCpuMicros(target)) - serverCpuBefore) / 1e6;
  return {
    seconds,
    deliveriesPerSecond: deliveries / seconds,
    publishSeconds: (await published).seconds,
    // How long the last arrival came after the last write was done: the delivery's own lag.
    tailSeconds: seconds - (await published).seconds,
    serverCpuSeconds,
    clientCpuSeconds: (client.user + client.system) / 1e6,
  };
}

/**
 * One throughput case: both targets' subscribers open at once, then `rounds` rounds of `count`
 * events each, the order of the targets alternating.
 */
async function measureDelivery(context, { name, count, open }) {
  const { rounds } = context.settings;
  const entries = [];
  try {
    for (const target of [context.bare, context.plinth]) {
      entries.push({ target, group: await open(target), rounds: [] });
    }
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[(i + round) % entries.length];
        if (entry.failed) continue;
        try {
          const result = await deliverRound(context, entry.target, entry.group, count);
          entry.rounds.push({ round: round + 1, ...result });
          context.log(
            `realtime: ${name}, round ${round + 1}, ${entry.target.label}: ${Math.round(result.deliveriesPerSecond)} events/s delivered (${result.seconds.toFixed(2)} s)`,
          );
        } catch (error) {
          // The group's count is off after a failed round: its later rounds would measure nothing.
          entry.failed = true;
          const message = error instanceof Error ? error.message : String(error);
          entry.rounds.push({ round: round + 1, error: message });
          context.log(`realtime: ${name}, round ${round + 1}, ${entry.target.label}: FAILED, ${message}`);
        }
      }
    }
  } finally {
    for (const entry of entries) entry.group.close();
  }
  const summaries = entries.map(({ target, group, rounds: done }) => {
    const measured = done.filter((round) => round.error === undefined);
    const state = group.state();
    return {
      label: target.label,
      subscribers: group.size,
      client: group.client,
      deliveriesPerSecond: median(measured.map((round) => round.deliveriesPerSecond)),
      byRound: done.map((round) => round.deliveriesPerSecond),
      seconds: median(measured.map((round) => round.seconds)),
      publishSeconds: median(measured.map((round) => round.publishSeconds)),
      tailSeconds: median(measured.map((round) => round.tailSeconds)),
      serverCpuSeconds: median(measured.map((round) => round.serverCpuSeconds)),
      clientCpuSeconds: median(measured.map((round) => round.clientCpuSeconds)),
      failures: done.length - measured.length,
      outOfOrder: state.disorder,
      errors: done.filter((round) => round.error).map((round) => `round ${round.round}: ${round.error}`),
    };
  });
  const [bare, plinth] = summaries;
  const ratio =
    plinth.deliveriesPerSecond === undefined || bare.deliveriesPerSecond === undefined
      ? undefined
      : plinth.deliveriesPerSecond / bare.deliveriesPerSecond;
  return {
    name,
    events: count,
    bare,
    plinth,
    ratio,
    goal: goals.plinthToBare,
    met: ratio !== undefined && ratio >= goals.plinthToBare,
  };
}

/** Waits until a server has no stream open (the subscribers' sockets are closed by then). */
async function streamsClosed(target) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { streams } = await ask(target, { type: 'streams' });
    if (streams === 0) return;
    if (Date.now() > deadline) throw new Error(`${target.label}: ${streams} streams still open 15 s after closing`);
    await sleep(50);
  }
}

/**
 * The memory part on one target: its RSS (after two full collections) before `headersList`
 * streams open, with them open, and after events went through them and they all closed; then the
 * same again, so that memory kept as a high-water mark (the allocator's, V8's) can be told from
 * memory that grows with every cycle.
 */
async function measureMemory(context, target, headersList) {
  const cycle = async () => {
    const group = await openReaders(target, headersList);
    try {
      const open = await ask(target, { type: 'memory' });
      await deliverRound(context, target, group, memoryEvents);
      return open;
    } finally {
      group.close();
      await streamsClosed(target);
    }
  };
  await streamsClosed(target);
  const before = await ask(target, { type: 'memory' });
  const open = await cycle();
  const after = await ask(target, { type: 'memory' });
  await cycle();
  const again = await ask(target, { type: 'memory' });
  const streams = headersList.length;
  return {
    label: target.label,
    streams,
    streamsOpen: open.streams,
    rssBeforeMiB: before.rssMiB,
    rssOpenMiB: open.rssMiB,
    rssAfterMiB: after.rssMiB,
    rssAfterSecondMiB: again.rssMiB,
    rssPerThousandMiB: ((open.rssMiB - before.rssMiB) / streams) * 1000,
    rssLeftMiB: after.rssMiB - before.rssMiB,
    rssSecondCycleMiB: again.rssMiB - after.rssMiB,
    heapBeforeMiB: before.heapUsedMiB,
    heapOpenMiB: open.heapUsedMiB,
    heapAfterMiB: after.heapUsedMiB,
    heapAfterSecondMiB: again.heapUsedMiB,
    heapPerThousandMiB: ((open.heapUsedMiB - before.heapUsedMiB) / streams) * 1000,
    heapLeftMiB: after.heapUsedMiB - before.heapUsedMiB,
  };
}

/** The SDK with a Plinth server's service key. */
const clientOf = (target) =>
  createClient({
    url: target.url,
    publishableKey: target.headers.publishableKey,
    serviceKey: target.headers.serviceKey,
  });

/** How long a server process may take over `count` paced writes: a slow database is measured, not cut. */
const paceTimeoutMs = (rate, count) => (count / rate) * 1000 * 10 + 60_000;

/** The two latency paths of one Plinth server: a row inserted in its process, a broadcast over HTTP. */
function plinthLatencyPaths(context, target) {
  const plinth = clientOf(target);
  const ticket = (options) => plinth.realtime.createTicket({ expiresIn: ticketSeconds, ...options });
  return [
    {
      label: `${target.label}, row insert`,
      how: 'an INSERT into a published table, in the server process (trigger, log, NOTIFY, stream)',
      goal: true,
      ticket: () => ticket({ tables: ['bench_realtime'] }),
      write: ({ rate, count }) =>
        ask(target, { type: 'pace', rate, count, body: context.body }, paceTimeoutMs(rate, count)),
      read: (event) =>
        event.type === 'row.insert' ? { n: event.payload.new.n, sentUs: event.payload.new.sent_us } : undefined,
    },
    {
      label: `${target.label}, broadcast over HTTP`,
      how: "the SDK's realtime.broadcast() from the benchmark's process (POST /v1/realtime/broadcast, log, NOTIFY, stream)",
      goal: true,
      ticket: () => ticket({ channels: ['bench:latency'] }),
      write: ({ rate, count }) =>
        pace({
          rate,
          count,
          send: (n, dueUs) =>
            plinth.realtime.broadcast('bench:latency', 'bench', { n, sentUs: dueUs, body: context.body }),
        }),
      read: (event) => (event.type === 'bench' ? event.payload : undefined),
    },
  ];
}

const positive = (value) => Number.isSafeInteger(value) && value >= 1;

/**
 * What is wrong with the section's settings (from `PLINTH_BENCH_REALTIME_*`), or undefined:
 * run.mjs asks before any section runs.
 *
 * @example
 * ```js
 * const problem = realtimeSettingsProblem({ rate: 1000, seconds: 10, streams: 1000, events: 20_000, fanoutEvents: 1000 });
 * if (problem) throw new Error(problem);
 * ```
 */
export function realtimeSettingsProblem({ rate, seconds, streams, events, fanoutEvents }) {
  const problems = [
    ['PLINTH_BENCH_REALTIME_RATE', rate, 'events a second, such as 1000'],
    ['PLINTH_BENCH_REALTIME_SECONDS', seconds, 'seconds, such as 2 for a quick run'],
    ['PLINTH_BENCH_REALTIME_STREAMS', streams, 'streams, such as 100 for a quick run'],
    ['PLINTH_BENCH_REALTIME_EVENTS', events, 'events, such as 2000 for a quick run'],
    ['PLINTH_BENCH_REALTIME_FANOUT_EVENTS', fanoutEvents, 'events, such as 200 for a quick run'],
  ]
    .filter(([, value]) => !positive(value))
    .map(([name, value, example]) => `${name} must be a whole number ≥ 1 of ${example}; got ${value}.`);
  return problems.length > 0 ? problems.join(' ') : undefined;
}

/**
 * The realtime benchmark: latency from a write to `onEvent` at `rate` events a second (a row
 * inserted in the server's process and a broadcast over HTTP, on PGlite and on PostgreSQL when it
 * answers, and the bare server's push); events delivered per second to one SDK subscriber and to
 * `streams` light readers, Plinth on PGlite against the bare server, in `rounds` alternating
 * rounds; and the servers' RSS before, with and after `streams` open streams. `log` gets progress
 * lines; `cleanups` receives the dropping of the PostgreSQL database it makes, so that Ctrl-C
 * drops it too.
 *
 * @example
 * ```js
 * const realtime = await benchRealtime({ rate: 1000, warmupSeconds: 2, seconds: 10, streams: 1000, events: 20_000,
 *   fanoutEvents: 1000, rounds: 3, batch: 500, bodyBytes: 100, log: console.error, cleanups: [] });
 * console.log(realtime.latency.paths[0].latencyMs.p99, realtime.throughput.cases[1].ratio);
 * ```
 */
export async function benchRealtime({ log, cleanups, ...settings }) {
  const problem = realtimeSettingsProblem(settings);
  if (problem) throw new Error(problem);
  const loadAverageAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const context = {
    settings,
    log,
    channel: 'bench:fanout',
    // A payload of a chat message's size, the same in every message of every server.
    body: 'x'.repeat(settings.bodyBytes),
  };
  const started = [];
  let database;
  try {
    log('realtime: starting Plinth on PGlite (in memory) and the bare Hono SSE server in child processes');
    const onPglite = await startTarget(
      'Plinth on PGlite',
      { kind: 'plinth', database: 'memory', rateRules },
      serverProcess,
    );
    started.push(onPglite);
    context.bare = await startTarget('bare SSE', { kind: 'bare' }, serverProcess);
    started.push(context.bare);
    let onPostgres;
    const postgresSkipped = await probePostgres();
    if (postgresSkipped) {
      log(`realtime: Plinth on PostgreSQL skipped, ${postgresSkipped}`);
    } else {
      database = await createBenchDatabase(cleanups);
      log('realtime: starting Plinth on PostgreSQL in a child process');
      onPostgres = await startTarget(
        'Plinth on PostgreSQL',
        { kind: 'plinth', database: database.url, rateRules },
        serverProcess,
      );
      started.push(onPostgres);
    }
    // The memory and throughput parts on one Plinth server: PostgreSQL's when there is one (the
    // production database, and a process whose RSS is not PGlite's worker and WebAssembly memory,
    // which a collection here does not reach), else PGlite's.
    context.plinth = onPostgres ?? onPglite;
    const fanoutClient = clientOf(context.plinth);
    const ticket = (options) => fanoutClient.realtime.createTicket({ expiresIn: ticketSeconds, ...options });

    // 1. Latency, on each database.
    const latencyPaths = [
      ...plinthLatencyPaths(context, onPglite),
      ...(onPostgres ? plinthLatencyPaths(context, onPostgres) : []),
      {
        label: 'bare SSE push (baseline)',
        how: 'the bare server enqueues the message on its streams when it is due: no log, no HTTP write',
        ticket: () => bareTicket(context.bare),
        write: ({ rate, count }) =>
          ask(
            context.bare,
            { type: 'pace', rate, count, channel: 'bench:latency', body: context.body },
            paceTimeoutMs(rate, count),
          ),
        read: (event) => (event.type === 'bench' ? event.payload : undefined),
      },
    ];
    const latency = [];
    for (const path of latencyPaths) {
      log(
        `realtime: latency, ${path.label}: ${settings.warmupSeconds} s warm-up, then ${settings.seconds} s at ${settings.rate} events/s`,
      );
      const result = await measureLatency(context, path);
      latency.push(result);
      log(
        `realtime: latency, ${path.label}: p50 ${fixed(result.latencyMs.p50, 1)} ms, p99 ${fixed(result.latencyMs.p99, 1)} ms, max ${fixed(result.latencyMs.max, 1)} ms, ${Math.round(result.writesPerSecond)} writes/s, ${result.lost} lost`,
      );
    }
    // Only one Plinth server from here on: the other would take CPU from the measured ones.
    if (onPostgres) {
      started.splice(started.indexOf(onPglite), 1);
      await stopTarget(onPglite);
    }

    // Tickets for the many streams of the memory and throughput parts: one each (a ticket holds
    // at most 2 streams), no user (a user holds at most 10).
    log(`realtime: minting ${settings.streams} tickets`);
    const tickets = await inBatches(Array.from({ length: settings.streams }), 20, () =>
      ticket({ channels: [context.channel] }),
    );
    const plinthHeaders = tickets.map((minted) => ({ authorization: `Ticket ${minted.ticket}` }));
    const bareHeaders = tickets.map(() => ({}));

    // 3. Memory (before the throughput part, whose heap growth would hide what streams leave).
    log(`realtime: memory, ${settings.streams} streams opened and closed on each server`);
    const memory = [];
    for (const [target, headersList] of [
      [context.bare, bareHeaders],
      [context.plinth, plinthHeaders],
    ]) {
      memory.push(await measureMemory(context, target, headersList));
      const last = memory[memory.length - 1];
      log(
        `realtime: memory, ${target.label}: RSS ${fixed(last.rssBeforeMiB, 1)} → ${fixed(last.rssOpenMiB, 1)} with ${last.streams} open → ${fixed(last.rssAfterMiB, 1)} MiB after`,
      );
    }

    // 2. Throughput.
    const fanoutTicket = await ticket({ channels: [context.channel] });
    const cases = [];
    log(`realtime: throughput to 1 subscriber, ${settings.events} events a round, ${settings.rounds} rounds`);
    cases.push(
      await measureDelivery(context, {
        name: '1 subscriber',
        count: settings.events,
        open: (target) => openSdkSubscriber(target === context.bare ? bareTicket(target) : fanoutTicket),
      }),
    );
    log(
      `realtime: throughput to ${settings.streams} subscribers, ${settings.fanoutEvents} events a round, ${settings.rounds} rounds`,
    );
    cases.push(
      await measureDelivery(context, {
        name: `${settings.streams} subscribers`,
        count: settings.fanoutEvents,
        open: (target) => openReaders(target, target === context.bare ? bareHeaders : plinthHeaders),
      }),
    );
    await streamsClosed(context.plinth);
    const afterAll = await ask(context.plinth, { type: 'memory' });

    const plinthMemory = memory[1];
    const failures = [
      ...latency
        .filter((path) => path.lost > 0 || path.writeFailures > 0)
        .map((path) => `latency ${path.label}: ${path.lost} lost, ${path.writeFailures} failed writes`),
      ...cases.flatMap((fanout) =>
        [fanout.bare, fanout.plinth]
          .filter((target) => target.failures > 0 || target.outOfOrder > 0)
          .map((target) => `throughput ${fanout.name} ${target.label}: ${target.errors.join('; ')}`),
      ),
      ...memory
        .filter((target) => target.streamsOpen !== target.streams)
        .map((target) => `memory ${target.label}: ${target.streamsOpen} of ${target.streams} streams open`),
    ];
    return {
      loadAverageAtStart,
      fanoutServer: context.plinth.label,
      settings: { ...settings },
      payload: `{ n, body } with a ${settings.bodyBytes}-character body (latency: { n, sentUs, body }; rows: the row)`,
      latency: {
        rate: settings.rate,
        warmupSeconds: settings.warmupSeconds,
        seconds: settings.seconds,
        goalP99Ms: goals.latencyP99Ms,
        clock:
          'the write is stamped with the time it was due (process.hrtime, shared by the processes); onEvent reads it',
        ...(postgresSkipped ? { postgresSkipped } : {}),
        paths: latency,
      },
      throughput: { goal: goals.plinthToBare, batch: settings.batch, cases },
      memory: {
        streams: settings.streams,
        eventsThroughEachStream: memoryEvents,
        targets: memory,
        goalMiB: goals.rssLeftAfterCloseMiB,
        met: plinthMemory.rssLeftMiB < goals.rssLeftAfterCloseMiB,
        plinthAfterThroughput: { rssMiB: afterAll.rssMiB, heapUsedMiB: afterAll.heapUsedMiB },
      },
      failures,
    };
  } finally {
    for (const target of started) await stopTarget(target);
    await database?.drop();
  }
}

/**
 * The realtime section of the printed report, as lines.
 *
 * @example
 * ```js
 * process.stdout.write(`${formatRealtime(await benchRealtime(settings)).join('\n')}\n`);
 * ```
 */
export function formatRealtime(realtime) {
  const verdict = (met) => (met ? 'met' : 'NOT met');
  const whole = (value) => (value === undefined ? '' : Math.round(value).toLocaleString('en-US'));
  const { latency, throughput, memory } = realtime;
  const latencyRows = latency.paths.map((path) => [
    path.label,
    whole(path.writesPerSecond),
    fixed(path.latencyMs.p50, 1),
    fixed(path.latencyMs.p99, 1),
    fixed(path.latencyMs.max, 1),
    whole(path.events),
    String(path.lost),
    String(path.writeFailures),
    path.goal ? verdict(path.met) : '',
  ]);
  const throughputRows = throughput.cases.flatMap((fanout) =>
    [
      [fanout.bare, 1, ''],
      [fanout.plinth, fanout.ratio, verdict(fanout.met)],
    ].map(([target, ratio, goal]) => [
      `${target.label}, ${fanout.name}`,
      whole(target.deliveriesPerSecond),
      whole(target.deliveriesPerSecond === undefined ? undefined : target.deliveriesPerSecond / target.subscribers),
      target.byRound.map((value) => (value === undefined ? 'failed' : whole(value))).join(' '),
      fixed(target.seconds, 2),
      fixed(target.publishSeconds, 2),
      fixed(target.tailSeconds === undefined ? undefined : target.tailSeconds * 1000, 0),
      fixed(target.serverCpuSeconds, 2),
      fixed(target.clientCpuSeconds, 2),
      String(target.failures),
      fixed(ratio, 2),
      goal,
    ]),
  );
  const memoryRows = memory.targets.map((target, index) => [
    target.label,
    fixed(target.rssBeforeMiB, 1),
    fixed(target.rssOpenMiB, 1),
    fixed(target.rssPerThousandMiB, 1),
    fixed(target.rssAfterMiB, 1),
    fixed(target.rssLeftMiB, 1),
    fixed(target.rssSecondCycleMiB, 1),
    `${fixed(target.heapBeforeMiB, 1)} / ${fixed(target.heapOpenMiB, 1)} / ${fixed(target.heapAfterMiB, 1)} / ${fixed(target.heapAfterSecondMiB, 1)}`,
    index === memory.targets.length - 1 ? verdict(memory.met) : '',
  ]);
  const [one, many] = throughput.cases;
  const failures = throughput.cases.flatMap((fanout) =>
    [fanout.bare, fanout.plinth].flatMap((target) =>
      target.errors.map((error) => `  ${target.label}, ${fanout.name}, ${error}`),
    ),
  );
  return [
    `Realtime: Plinth and a bare Hono SSE endpoint, each in a child process on 127.0.0.1; subscribers in this process; throughput and memory on ${realtime.fanoutServer}; load average at the section's start: ${realtime.loadAverageAtStart.join(' ')}`,
    `  Latency, write → onEvent (the SDK's subscribe()), ${latency.rate} events/s: ${latency.warmupSeconds} s warm-up, then ${latency.seconds} s; ${latency.clock}`,
    ...latency.paths.map((path) => `  ${path.label}: ${path.how}`),
    ...(latency.postgresSkipped ? [`  Plinth on PostgreSQL: skipped, ${latency.postgresSkipped}`] : []),
    ...table(
      [
        'path',
        'writes/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'events',
        'lost',
        'failed writes',
        `goal p99 < ${latency.goalP99Ms} ms`,
      ],
      latencyRows,
    ),
    `  Throughput: events delivered per second of wall time (every subscriber's events, from the publish to the last arrival; publish s: the writes alone, in the server's process), ${one.events.toLocaleString('en-US')} events a round to 1 subscriber (${one.plinth.client}), ${many.events.toLocaleString('en-US')} to each of ${many.plinth.subscribers} (${many.plinth.client}); ${realtime.settings.rounds} rounds, the order alternating; Plinth writes ${throughput.batch} events per transaction through plinth.publish_events`,
    ...table(
      [
        'target',
        'events/s',
        'per subscriber',
        'events/s by round',
        's',
        'publish s',
        'last arrival after publish ms',
        'server CPU s',
        'client CPU s',
        'failures',
        'ratio',
        `goal ≥ ${throughput.goal}`,
      ],
      throughputRows,
    ),
    ...failures,
    `  Memory: the server's RSS after two full collections, before ${memory.streams} streams open, with them open, and after ${memory.eventsThroughEachStream} events went through each and all closed; then that cycle once more (second cycle: RSS after it − after the first)`,
    ...table(
      [
        'server',
        'RSS before MiB',
        'open MiB',
        'per 1 000 streams MiB',
        'after close MiB',
        'after − before MiB',
        'second cycle + MiB',
        'heap used MiB (before / open / after / after 2nd)',
        `goal < ${memory.goalMiB} MiB left`,
      ],
      memoryRows,
    ),
    `  Plinth's RSS after the throughput part, its streams all closed: ${fixed(memory.plinthAfterThroughput.rssMiB, 1)} MiB (heap used ${fixed(memory.plinthAfterThroughput.heapUsedMiB, 1)} MiB)`,
    `  Plinth ÷ bare: 1 subscriber ${fixed(one.ratio, 2)} (goal ≥ ${one.goal}: ${verdict(one.met)}), ${many.plinth.subscribers} subscribers ${fixed(many.ratio, 2)} (${verdict(many.met)}); latency p99 ${latency.paths
      .filter((path) => path.goal)
      .map((path) => `${path.label} ${fixed(path.latencyMs.p99, 1)} ms (${verdict(path.met)})`)
      .join(', ')}; RSS left after close ${fixed(memory.targets.at(-1).rssLeftMiB, 1)} MiB (${verdict(memory.met)})`,
  ];
}
