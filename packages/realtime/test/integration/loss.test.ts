// The loss test: subscribe() reads the real server's stream through a proxy that cuts its
// connection 100 times at random points (mid-message, mid-header, on a timer, by a reset, by a
// stall only the client's watchdog notices) while 10 000 events are written. The subscriber must
// see every id exactly once, in the log's order; then again with tickets that expire every 2 s
// and are renewed by getTicket along the way.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CuttingProxy, startCuttingProxy } from '../fixtures/cutting-proxy.js';
import { useRealtimeServer } from '../fixtures/realtime-server.js';
import { seededRandom, testSeed } from '../fixtures/seeded-random.js';
import { recording, subscribed } from '../fixtures/subscription-recorder.js';

const { server, plinth, publish, loggedIds } = useRealtimeServer();

const total = 10_000;
const batches = 100;
const cutCount = 100;

let proxy: CuttingProxy | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await proxy?.close();
  proxy = undefined;
});

/** Polls `condition` every 10 ms; fails after `timeoutMs` saying `what` (a guard against a hang). */
async function until(condition: () => boolean, what: () => string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what()}`);
    await sleep(10);
  }
}

/** Where two id lists first differ, or -1: a readable failure where a 10 000-line diff is not. */
function firstDifference(seen: readonly string[], written: readonly string[]) {
  for (let i = 0; i < Math.max(seen.length, written.length); i++) if (seen[i] !== written[i]) return i;
  return -1;
}

/**
 * One run: a subscriber through a fresh cutting proxy, the writes, and what it saw. With
 * `expiresIn`, tickets expire that often and getTicket mints new ones.
 */
async function run(expiresIn?: number) {
  const seed = testSeed();
  const replay = `seed ${seed}; replay with PLINTH_TEST_SEED=${seed}`;
  const random = seededRandom(seed);
  // The SDK waits a random 0–1 s (doubling) before each reconnect; a hundred of them would take
  // most of a minute. Its jitter is scaled to a hundredth here, from the seed; the waits
  // themselves are the unit tests' business.
  const jitter = seededRandom(seed ^ 0x5bd1e995);
  vi.spyOn(Math, 'random').mockImplementation(() => jitter() / 100);
  const cutting = await startCuttingProxy({
    upstream: server().url,
    random,
    cuts: cutCount,
    maxBytes: 24_000,
    minMs: 20,
    maxMs: 250,
    stallShare: 0.03,
  });
  proxy = cutting;

  const channel = `loss:${seed}:${expiresIn ?? 'long'}`;
  let minted = 0;
  const mint = async () => {
    minted++;
    const ticket = await plinth().realtime.createTicket({ channels: [channel], expiresIn });
    return { ...ticket, url: cutting.via(ticket.url) };
  };
  const seen = recording();
  const subscription = await subscribed(
    await mint(),
    // A stall is noticed after a second of silence.
    seen.options({ idleTimeoutMs: 1000, getTicket: expiresIn === undefined ? undefined : mint }),
  );

  // Where the run stood, for a failure message.
  const state = () =>
    JSON.stringify({
      events: seen.events.length,
      lastEventId: subscription.lastEventId,
      status: subscription.status,
      statuses: seen.statuses.slice(-6),
      errors: seen.errors.map(String),
      connections: cutting.connections,
      lastCuts: cutting.cuts.slice(-3),
      seen: cutting.seen,
      minted,
    });
  const written: string[] = [];
  const perBatch = total / batches;
  for (let batch = 0; batch < batches; batch++) {
    // One cut per batch, so that cuts and writes interleave from the first batch to the last ...
    await until(
      () => cutting.cuts.length >= batch,
      () => `cut ${batch} (${replay}) ${state()}`,
    );
    // ... and, with expiring tickets, a renewal every 25 batches at least.
    if (expiresIn !== undefined) {
      await until(
        () => minted >= 1 + Math.floor(batch / 25),
        () => `ticket ${1 + Math.floor(batch / 25)} (${replay}) ${state()}`,
      );
    }
    written.push(...(await publish(channel, perBatch, perBatch, batch * perBatch + 1)));
  }
  await seen.until(
    // Caught up: every event arrived, or the stream's cursor reached the last one written.
    () =>
      (seen.events.length >= total || subscription.lastEventId === written.at(-1)) && cutting.cuts.length >= cutCount,
    () => `every event and every cut (${replay}) ${state()}`,
    60_000,
  );
  // Late duplicates, if any were coming, have had time to arrive.
  await sleep(200);
  return { seen, subscription, written, cutting, minted, replay, channel };
}

describe('subscribe() through a connection cut 100 times while 10 000 events are written', () => {
  it('sees every id exactly once, in order', async () => {
    const { seen, subscription, written, cutting, replay, channel } = await run();

    expect(written).toHaveLength(total);
    expect(await loggedIds(channel)).toEqual(written);
    const ids = seen.ids();
    expect({ received: ids.length, firstDifference: firstDifference(ids, written) }, replay).toEqual({
      received: total,
      firstDifference: -1,
    });
    expect(ids).toEqual(written);
    expect(seen.events.map((event) => (event.payload as { n: number }).n)).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );

    // The run took the paths it means to: every cut made, many of them mid-message, by bytes and
    // by time, and a stream that was open again at the end.
    expect(cutting.cuts, replay).toHaveLength(cutCount);
    expect(cutting.cuts.filter((cut) => cut.partial).length, replay).toBeGreaterThanOrEqual(10);
    expect(cutting.cuts.filter((cut) => cut.trigger === 'bytes').length, replay).toBeGreaterThan(0);
    expect(cutting.connections, replay).toBeGreaterThan(cutCount);
    expect(seen.statuses).toContain('reconnecting');
    expect(subscription.status).toBe('open');
    expect(subscription.lastEventId).toBe(written.at(-1));
    // A cut is not the server's fault nor the app's: nothing was reported.
    expect(seen.errors, replay).toEqual([]);
    expect(seen.resets).toEqual([]);
  }, 120_000);

  it('sees every id exactly once, in order, across ticket expiries renewed by getTicket', async () => {
    const { seen, subscription, written, cutting, minted, replay } = await run(2);

    expect(written).toHaveLength(total);
    const ids = seen.ids();
    expect({ received: ids.length, firstDifference: firstDifference(ids, written) }, replay).toEqual({
      received: total,
      firstDifference: -1,
    });
    expect(ids).toEqual(written);

    expect(minted, replay).toBeGreaterThan(1);
    // Expiries reached the client as the server's `end` on an open stream, or as a 401 to a
    // reconnect with a ticket that had expired meanwhile.
    expect(cutting.seen.ends + cutting.seen.unauthorized, replay).toBeGreaterThan(0);
    expect(cutting.cuts, replay).toHaveLength(cutCount);
    expect(cutting.cuts.filter((cut) => cut.partial).length, replay).toBeGreaterThanOrEqual(10);
    // A ticket lives 2 s here, so the check may land on a renewal: the stream must be open again
    // soon after, not at that instant.
    await expect.poll(() => subscription.status, { timeout: 15_000 }).toBe('open');
    expect(seen.errors, replay).toEqual([]);
  }, 120_000);
});
