import { setTimeout as sleep } from 'node:timers/promises';
import type { RealtimeSubscription, RealtimeTicket } from '@plinth/realtime';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CuttingProxy, startCuttingProxy } from '../../../realtime/test/fixtures/cutting-proxy.js';
import { seededRandom, testSeed } from '../../../realtime/test/fixtures/seeded-random.js';
import { type Recording, recording, subscribed } from '../../../realtime/test/fixtures/subscription-recorder.js';
import { defaultRateRules } from '../../src/features.js';
import { type RunningServer, startServer } from '../../src/start-server.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { cluster, freePort } from '../fixtures/postgres-cluster.js';
import { openSse } from '../fixtures/sse-client.js';

// Faults (`pnpm test:faults`): realtime across a database restart. A server on a PostgreSQL
// cluster of this test's own; subscribers through the real subscribe(), half of them through a
// proxy that cuts their connections now and then (so they reconnect, before, during and after the
// outage, and resume from their last id). Broadcasts are written in batches before, during and
// after PostgreSQL is stopped (-m fast, -m immediate) for 5 s and started again. Every event in
// the log is seen by every subscriber exactly once, in the log's order; writes while it was down
// are 503s (never 500s) and, not committed, not expected; the LISTEN connection comes back by
// itself. The figures are printed.

const runs = process.env.PLINTH_FAULTS === '1';

const subscriberCount = 6;
const batchSize = 10;
const downMs = 5_000;

describe.skipIf(!runs)('realtime streams across a PostgreSQL restart', () => {
  let pg: ReturnType<typeof cluster>;
  let server: RunningServer;
  let proxy: CuttingProxy | undefined;
  const call = jsonClient(() => server.url);
  const asService = () => ({ authorization: `Bearer ${server.serviceKey}` });

  beforeAll(async () => {
    pg = cluster(await freePort());
    pg.start();
    server = await startServer({
      database: pg.url,
      logLevel: 'silent',
      rateRules: Object.fromEntries(
        Object.keys(defaultRateRules).map((name) => [name, { capacity: 1_000_000, refillPerSecond: 1_000_000 }]),
      ),
    });
  }, 60_000);

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  afterAll(async () => {
    await server?.close();
    pg?.remove();
  });

  /** The ids of `channel`'s events in the log, in its order: what every subscriber must see. */
  async function loggedIds(channel: string): Promise<string[]> {
    const rows = await server.services.database.query<{ id: string }>(
      // By the column, not the text alias (which would sort "10" before "9").
      'SELECT id::text AS id FROM plinth.events WHERE channel = $1 ORDER BY plinth.events.id',
      [channel],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Backends whose last statement was a LISTEN: this server's listening connection, when it is
   * up. Asked as the superuser, on a connection of its own: the server's roles may not read other
   * sessions' statements.
   */
  async function listeningBackends(): Promise<number> {
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await admin<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'listen %'`;
      return row?.n ?? 0;
    } finally {
      await admin.end();
    }
  }

  it.each(['fast', 'immediate'] as const)(
    'stopped (-m %s) for 5 s: every committed event reaches every subscriber once, in order',
    async (mode) => {
      const seed = testSeed();
      const replay = `seed ${seed}; replay with PLINTH_TEST_SEED=${seed}`;
      const channel = `restart-${mode}-${seed}`;
      expect(await listeningBackends()).toBeGreaterThan(0);

      const cutting = await startCuttingProxy({
        upstream: server.url,
        random: seededRandom(seed),
        cuts: 30,
        maxBytes: 8_000,
        minMs: 200,
        maxMs: 2_000,
      });
      proxy = cutting;

      // Every subscriber records when each event arrived, to time the first one after the restart.
      let down = false;
      const subscribers: { seen: Recording; arrived: number[]; subscription: RealtimeSubscription; cut: boolean }[] =
        [];
      for (let i = 0; i < subscriberCount; i++) {
        const made = await call('POST', '/v1/realtime/tickets', { channels: [channel], expiresIn: 3600 }, asService());
        expect(made.status, JSON.stringify(made.body)).toBe(200);
        const cut = i % 2 === 1;
        const minted = made.body as RealtimeTicket;
        const ticket = cut ? { ...minted, url: cutting.via(minted.url) } : minted;
        const seen = recording();
        const arrived: number[] = [];
        const options = seen.options();
        const subscription = await subscribed(ticket, {
          ...options,
          onEvent: (event) => {
            arrived.push(Date.now());
            options.onEvent?.(event);
          },
        });
        subscribers.push({ seen, arrived, subscription, cut });
      }
      await Promise.all(
        subscribers.map(({ seen, subscription }) =>
          seen.until(() => subscription.status === 'open', `every subscriber open (${replay})`),
        ),
      );

      // The writer: batches of concurrent broadcasts, each a request of its own.
      const acknowledged: string[] = [];
      const statuses = new Map<number, number>();
      const slowWhileDown: number[] = [];
      let n = 0;
      let writing = true;
      const writer = (async () => {
        while (writing) {
          const batch = Array.from({ length: batchSize }, async () => {
            const number = ++n;
            const sent = performance.now();
            const answer = await call(
              'POST',
              '/v1/realtime/broadcast',
              { channel, event: 'n', payload: { n: number } },
              asService(),
            ).catch(() => ({ status: 0, headers: new Headers(), body: undefined }));
            if (down) slowWhileDown.push(performance.now() - sent);
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            if (answer.status === 200) acknowledged.push(answer.body?.id as string);
            else if (answer.status === 503) expect(answer.headers.get('retry-after')).toBe('1');
          });
          await Promise.all(batch);
          await sleep(100);
        }
      })();

      const probeTicket = await call(
        'POST',
        '/v1/realtime/tickets',
        { channels: [channel], expiresIn: 3600 },
        asService(),
      );
      expect(probeTicket.status).toBe(200);
      const { url: probeUrl, ticket: probe } = probeTicket.body as { url: string; ticket: string };
      await sleep(2_000);
      down = true;
      const connectionsBefore = cutting.connections;
      pg.stop(mode);
      // A stream opened while the database is down is refused honestly: 503 with Retry-After,
      // not 200 and a stream that ends before `ready`.
      const refused = await openSse(probeUrl, probe).catch((error: Error) => error);
      await sleep(downMs);
      // Streams the cut subscribers tried to open while it was down (each closed, to be tried again).
      const connectionsWhileDown = cutting.connections - connectionsBefore;
      pg.start();
      const back = Date.now();
      // Asserted once the database is started again, so a failure leaves the next test a database.
      expect(refused instanceof Error ? refused.message : refused.status).toBe(503);
      expect(refused instanceof Error ? undefined : refused.headers.get('retry-after')).toBe('1');
      down = false;
      // From the database's return to the LISTEN connection's: polled, as it happens.
      const listenBack = (async () => {
        while (Date.now() - back < 30_000) {
          if ((await listeningBackends().catch(() => 0)) > 0) return Date.now() - back;
          await sleep(50);
        }
        return undefined;
      })();
      await sleep(4_000);
      writing = false;
      await writer;

      // Every subscriber catches up with the log as it stands: what was committed, no more.
      const logged = await loggedIds(channel);
      for (const [i, { seen }] of subscribers.entries()) {
        await seen.until(
          () => seen.events.length >= logged.length,
          () => `subscriber ${i} to see all ${logged.length} events (${replay})`,
          60_000,
        );
      }
      // Late duplicates, if any were coming, have had time to arrive.
      await sleep(500);

      // The LISTEN connection came back by itself (the hub's poll alone would hide its loss).
      const listenedAgain = await listenBack;
      const listening = await listeningBackends();

      // Per subscriber: from the database's return to the first event it got after that.
      const afterRestart = subscribers.map(({ arrived }) => {
        const first = arrived.find((at) => at >= back);
        return first === undefined ? undefined : first - back;
      });
      const committedWhileDownAnswered503 = logged.length - acknowledged.length;
      console.info(
        `faults: realtime, -m ${mode}, ${downMs} ms down: ${logged.length} events committed (${acknowledged.length} acknowledged), ${subscriberCount} subscribers (${subscriberCount / 2} through ${cutting.cuts.length} cuts, ${cutting.connections} connections, ${connectionsWhileDown} of them while down); write statuses ${JSON.stringify(Object.fromEntries(statuses))}; slowest write while down ${Math.round(Math.max(0, ...slowWhileDown))} ms; first event after the database's return ${afterRestart.map((ms) => (ms === undefined ? 'none' : `${ms} ms`)).join(', ')}; LISTEN connection back ${listenedAgain ?? 'never'} ms after the database`,
      );

      expect(statuses.get(500) ?? 0, replay).toBe(0);
      expect(statuses.get(503) ?? 0, replay).toBeGreaterThan(0);
      // An acknowledged write is in the log; a 503 may (rarely) have committed as the database
      // went away, and is then in the log too: the log is the truth the subscribers must match.
      const inLog = new Set(logged);
      expect(acknowledged.filter((id) => !inLog.has(id))).toEqual([]);
      expect(committedWhileDownAnswered503).toBeGreaterThanOrEqual(0);
      for (const [i, { seen, subscription, cut }] of subscribers.entries()) {
        const ids = seen.ids();
        expect(new Set(ids).size, `subscriber ${i}: duplicates (${replay})`).toBe(ids.length);
        // Where the two lists first differ: readable where a diff of hundreds of ids is not.
        const differs = ids.findIndex((id, k) => id !== logged[k]);
        expect({ received: ids.length, firstDifference: differs }, `subscriber ${i} (${replay})`).toEqual({
          received: logged.length,
          firstDifference: -1,
        });
        expect(ids, `subscriber ${i} (${cut ? 'cut' : 'direct'}) (${replay})`).toEqual(logged);
        // Resumed from its last id every time: never reset to the head (which would skip events).
        expect(seen.resets, `subscriber ${i}`).toEqual([]);
        expect(subscription.status).toBe('open');
      }
      expect(cutting.cuts.length, replay).toBeGreaterThan(0);
      // New events after the restart reached every subscriber.
      for (const ms of afterRestart) expect(ms).toBeDefined();
      expect(listenedAgain, 'the LISTEN connection is back').toBeDefined();
      expect(listening, 'the LISTEN connection is still there').toBeGreaterThan(0);
    },
    180_000,
  );
});
