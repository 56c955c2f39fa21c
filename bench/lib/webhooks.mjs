// Webhooks (`node bench/run.mjs webhooks`): sustained deliveries a second from one server
// instance to a local receiver (its own process, answering 204). Each round makes an endpoint,
// writes `count` object.created events to the log, 500 a transaction, as fast as they go, and
// times from the first write until every delivery is recorded as succeeded in the database (the
// whole durable cycle: dispatch, claim, sign, send, record). The baseline, measured in the same
// run: the same sender (`sendWebhook`, same signing, keep-alive and concurrency) posting the
// same number of bodies with no database at all. On PGlite in memory and, when it answers, on a
// fresh PostgreSQL database.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { signWebhook } from '../../packages/protocol/dist/index.js';
import { openDatabase } from '../../packages/server/dist/database/open-database.js';
import { publishEvents } from '../../packages/server/dist/events/event-log.js';
import { createLogger } from '../../packages/server/dist/logger.js';
import { sendWebhook } from '../../packages/server/dist/webhooks/send-webhook.js';
import { createWebhooksService } from '../../packages/server/dist/webhooks/webhooks-service.js';
import { createBenchDatabase, probePostgres } from './postgres.mjs';
import { table } from './report.mjs';

const batch = 500;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function ask(child, message) {
  return new Promise((resolve) => {
    const onMessage = (answer) => {
      if (answer?.type !== message.type) return;
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

const payload = (n) => ({
  object: { bucket: 'bench', key: `uploads/${n}.bin`, size: 1024 + n, contentType: 'application/octet-stream' },
});

/** The baseline: `count` signed POSTs through the same sender, `concurrency` at a time, no database. */
async function bare(url, count, concurrency) {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  let next = 0;
  let failed = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        const id = `msg_bench${n}`;
        const body = JSON.stringify({ type: 'object.created', timestamp: new Date().toISOString(), data: payload(n) });
        const timestamp = Math.floor(Date.now() / 1000);
        const result = await sendWebhook({
          url,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': await signWebhook(secret, id, timestamp, body),
          },
          body,
          timeoutMs: 15_000,
          allowPrivate: true,
        });
        if (!result.ok) failed++;
      }
    }),
  );
  if (failed > 0) throw new Error(`bare: ${failed} of ${count} posts failed`);
  return count / ((performance.now() - began) / 1000);
}

async function plinthRound(database, webhooks, url, count) {
  const { endpoint } = await webhooks.createEndpoint({ url, events: ['object.created'] });
  const began = performance.now();
  for (let first = 0; first < count; first += batch) {
    const events = [];
    for (let n = first; n < Math.min(count, first + batch); n++) {
      events.push({ channel: 'storage:bench', type: 'object.created', payload: payload(n) });
    }
    await database.transaction((tx) => publishEvents(tx, events));
  }
  const written = performance.now();
  for (;;) {
    const [row] = await database.query(
      "SELECT count(*)::int AS done FROM plinth.webhook_deliveries WHERE endpoint_id = $1 AND status = 'succeeded'",
      [endpoint.id],
    );
    if (row.done >= count) break;
    if (performance.now() - began > 600_000)
      throw new Error(`webhooks: only ${row.done} of ${count} delivered in 10 min`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (performance.now() - began) / 1000;
  const [failed] = await database.query(
    "SELECT count(*)::int AS n FROM plinth.webhook_deliveries WHERE endpoint_id = $1 AND status <> 'succeeded'",
    [endpoint.id],
  );
  await webhooks.deleteEndpoint(endpoint.id);
  return { perSecond: count / seconds, writeSeconds: (written - began) / 1000, seconds, notSucceeded: failed.n };
}

async function measureOn(label, location, settings, receiver, log) {
  const { count, rounds, concurrency } = settings;
  const database = await openDatabase(location);
  const webhooks = await createWebhooksService({
    database,
    logger: createLogger('silent'),
    options: { allowPrivateDestinations: true, concurrency },
  });
  try {
    const plinth = [];
    const baseline = [];
    const received = [];
    for (let round = 0; round < rounds; round++) {
      await ask(receiver.child, { type: 'reset' });
      baseline.push(await bare(receiver.url, count, concurrency));
      await ask(receiver.child, { type: 'reset' });
      const result = await plinthRound(database, webhooks, receiver.url, count);
      plinth.push(result);
      received.push(await ask(receiver.child, { type: 'count' }));
      log(
        `webhooks: ${label}, round ${round + 1}: ${Math.round(result.perSecond)} deliveries/s (events written in ${result.writeSeconds.toFixed(2)} s, all recorded in ${result.seconds.toFixed(2)} s), bare ${Math.round(baseline.at(-1))}/s`,
      );
    }
    return {
      label,
      plinth,
      baseline,
      received,
      perSecond: median(plinth.map((round) => round.perSecond)),
      baselinePerSecond: median(baseline),
      ratio: median(plinth.map((round, index) => round.perSecond / baseline[index])),
    };
  } finally {
    await webhooks.close();
    await database.close();
  }
}

/**
 * Runs the section: rounds on PGlite in memory and on PostgreSQL when it answers.
 *
 * @example
 * ```js
 * const webhooks = await benchWebhooks({ count: 20_000, rounds: 3, concurrency: 32, log, cleanups });
 * ```
 */
export async function benchWebhooks({ log, cleanups, ...settings }) {
  const loadAverageAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const child = fork(new URL('./webhook-receiver-process.mjs', import.meta.url));
  const [ready] = await once(child, 'message');
  const receiver = { child, url: ready.url };
  try {
    const targets = [await measureOn('PGlite (memory)', 'memory', settings, receiver, log)];
    const skipped = await probePostgres();
    if (skipped) log(`webhooks: PostgreSQL skipped, ${skipped}`);
    else {
      const database = await createBenchDatabase(cleanups);
      targets.push(await measureOn('PostgreSQL', database.url, settings, receiver, log));
    }
    return { loadAverageAtStart, settings, targets, postgresSkipped: skipped };
  } finally {
    child.kill();
  }
}

/**
 * The section's table.
 *
 * @example
 * ```js
 * process.stdout.write(formatWebhooks(results.webhooks).join('\n'));
 * ```
 */
export function formatWebhooks(webhooks) {
  const whole = (value) => Math.round(value).toLocaleString('en-US');
  return [
    `Webhooks: ${webhooks.settings.count.toLocaleString('en-US')} object.created events a round, written 500 a transaction, to one endpoint on a local receiver (its own process, 204); ${webhooks.settings.concurrency} attempts in flight; deliveries/s from the first write until all are recorded as succeeded; bare: the same sender posting as many signed bodies with no database; ${webhooks.settings.rounds} rounds; load average at the section's start: ${webhooks.loadAverageAtStart.join(' ')}`,
    ...(webhooks.postgresSkipped ? [`  PostgreSQL: skipped, ${webhooks.postgresSkipped}`] : []),
    ...table(
      ['database', 'deliveries/s', 'by round', 'bare posts/s', 'by round', 'Plinth ÷ bare', 'not succeeded'],
      webhooks.targets.map((target) => [
        target.label,
        whole(target.perSecond),
        target.plinth.map((round) => whole(round.perSecond)).join(' '),
        whole(target.baselinePerSecond),
        target.baseline.map(whole).join(' '),
        target.ratio.toFixed(2),
        String(target.plinth.reduce((sum, round) => sum + round.notSucceeded, 0)),
      ]),
    ),
  ];
}
