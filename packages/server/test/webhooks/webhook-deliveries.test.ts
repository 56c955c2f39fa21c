import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhook } from '@plinth/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import type { Database } from '../../src/database/database.js';
import { openDatabase } from '../../src/database/open-database.js';
import { createLogger } from '../../src/logger.js';
import { createRealtimeService } from '../../src/realtime/realtime-service.js';
import { realtimeTickets } from '../../src/realtime/tickets.js';
import { failingDisablesAfterMs, retryDelaysMs } from '../../src/webhooks/webhook-schedule.js';
import { createWebhooksService, type WebhooksService } from '../../src/webhooks/webhooks-service.js';

// The delivery loop on a fake clock: a receiver that fails the first k attempts of every
// delivery ends with each delivery id processed exactly once (it deduplicates on webhook-id),
// and the attempts follow the schedule. Driven by `runDue()` with the clock moved to each next
// due time, so hours of retries take milliseconds and nothing depends on timers.

const start = Date.parse('2026-12-01T00:00:00.000Z');

/** A receiver on 127.0.0.1 whose answer to each request the test decides. */
interface Receiver {
  url: string;
  /** Every request, in order of arrival. */
  requests: { id: string; timestamp: string; signature: string; body: string }[];
  answer: (request: { id: string; attempt: number; body: string }, response: ServerResponse) => void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    requests: [],
    answer: (_request, response) => response.writeHead(204).end(),
    close: async () => {},
  };
  const attempts = new Map<string, number>();
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const id = String(request.headers['webhook-id']);
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.requests.push({
        id,
        timestamp: String(request.headers['webhook-timestamp']),
        signature: String(request.headers['webhook-signature']),
        body,
      });
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      receiver.answer({ id, attempt, body }, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

describe.each(testDatabaseLocations())('webhook deliveries on $label', (location) => {
  let database: Database;
  let receiver: Receiver;
  let now: number;
  let services: WebhooksService[];
  const logger = createLogger('silent');

  const service = async (overrides: { random?: () => number } = {}) => {
    const made = await createWebhooksService({
      database,
      logger,
      options: {
        autoRun: false,
        allowPrivateDestinations: true,
        timeoutMs: 1_000,
        clock: () => now,
        random: overrides.random ?? (() => 0.75),
      },
    });
    services.push(made);
    return made;
  };

  /** Users made straight in SQL: the trigger writes one user.created event each. */
  const addUsers = async (count: number, tag = 'u') => {
    await database.query(
      `INSERT INTO plinth.users (email) SELECT $1 || n || '@example.com' FROM generate_series(1, $2::int) AS n`,
      [`${tag}-${now}-`, count],
    );
  };

  /** Runs the loop, moving the clock to each next due time, until nothing is pending (or `limit` runs). */
  const runUntilSettled = async (webhooks: WebhooksService, limit = 50) => {
    for (let run = 0; run < limit; run++) {
      await webhooks.runDue();
      const [next] = await database.query<{ due: Date | string | null }>(
        `SELECT min(d.next_attempt_at) AS due FROM plinth.webhook_deliveries d
           JOIN plinth.webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
          WHERE d.status = 'pending'`,
      );
      if (!next?.due) return;
      now = Math.max(now, new Date(next.due).getTime());
    }
    throw new Error(`still pending after ${limit} runs`);
  };

  const attemptTimes = async (deliveryId: string) =>
    (
      await database.query<{ at: Date | string }>(
        'SELECT at FROM plinth.webhook_attempts WHERE delivery_id = $1 ORDER BY attempt',
        [deliveryId],
      )
    ).map((row) => new Date(row.at).getTime());

  // One database per location (opening one applies the whole schema); each test starts with no
  // endpoints and no users, and an endpoint takes no event from before it was made.
  beforeAll(async () => {
    database = await openDatabase(await location.create());
  }, 30_000);
  afterAll(async () => {
    await database.close();
  });

  beforeEach(async () => {
    await database.query('DELETE FROM plinth.webhook_endpoints');
    await database.query('DELETE FROM plinth.users');
    receiver = await startReceiver();
    now = start;
    services = [];
  });

  afterEach(async () => {
    for (const made of services) await made.close();
    await receiver.close();
  });

  it.each([1, 3, 7])(
    'a receiver failing the first %i attempts ends with every delivery processed exactly once, on the schedule',
    async (k) => {
      const webhooks = await service();
      const { endpoint } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
      // An idempotent receiver: fails the first k attempts of each id; processes an id once.
      const processed = new Map<string, number>();
      receiver.answer = ({ id, attempt }, response) => {
        if (attempt <= k) {
          response.writeHead(attempt % 2 ? 500 : 503).end('not now');
          return;
        }
        if (!processed.has(id)) processed.set(id, 0);
        processed.set(id, (processed.get(id) as number) + 1);
        response.writeHead(200).end('ok');
      };
      await addUsers(12);
      await runUntilSettled(webhooks);

      const deliveries = await database.query<{ id: string; status: string; attempts: number; event_id: string }>(
        'SELECT id, status, attempts, event_id::text AS event_id FROM plinth.webhook_deliveries WHERE endpoint_id = $1',
        [endpoint.id],
      );
      expect(deliveries).toHaveLength(12);
      expect(new Set(deliveries.map((d) => d.event_id)).size).toBe(12);
      for (const delivery of deliveries) {
        expect(delivery).toMatchObject({ status: 'succeeded', attempts: k + 1 });
        expect(processed.get(delivery.id)).toBe(1);
        // Each attempt came the jittered delay after the one before: 0.75 → a factor of 1.05.
        const times = await attemptTimes(delivery.id);
        expect(times).toHaveLength(k + 1);
        for (let n = 1; n < times.length; n++) {
          expect((times[n] as number) - (times[n - 1] as number)).toBe(Math.round((retryDelaysMs[n] as number) * 1.05));
        }
      }
      expect(processed.size).toBe(12);
      expect(receiver.requests).toHaveLength(12 * (k + 1));
      // The endpoint is healthy again after the last success.
      expect((await webhooks.getEndpoint(endpoint.id)).failingSince).toBeNull();
    },
  );

  it('an attempt the receiver processed but answered too late is sent again under the same id, and processed once', async () => {
    const webhooks = await service();
    await webhooks.createEndpoint({ url: receiver.url, events: ['*'] });
    const processed = new Map<string, number>();
    receiver.answer = ({ id, attempt }, response) => {
      processed.set(id, (processed.get(id) ?? 0) + (processed.has(id) ? 0 : 1));
      // The first attempt's work is done, but its answer comes after the sender gave up (1 s).
      if (attempt === 1) setTimeout(() => response.writeHead(200).end(), 1_500).unref();
      else response.writeHead(200).end();
    };
    await addUsers(3);
    await runUntilSettled(webhooks);
    const ids = [...new Set(receiver.requests.map((request) => request.id))];
    expect(ids).toHaveLength(3);
    expect(receiver.requests).toHaveLength(6);
    for (const id of ids) {
      expect(processed.get(id)).toBe(1);
      const { delivery, attempts } = await webhooks.getDelivery(id);
      expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(attempts.map((attempt) => attempt.error)).toEqual(['timeout', null]);
    }
  });

  it('jitter keeps each delay within ±10 % of the schedule', async () => {
    for (const [random, factor] of [
      [() => 0, 0.9],
      [() => 0.999999, 1.1],
    ] as const) {
      const webhooks = await service({ random });
      const { endpoint } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
      receiver.answer = (_request, response) => response.writeHead(500).end();
      await addUsers(1, `jitter${factor}`);
      await webhooks.runDue(); // attempt 1
      now += 3 * 3_600_000; // well past attempt 2, 3 and 4's delays
      await webhooks.runDue(); // attempt 2
      const [delivery] = (await webhooks.listDeliveries(endpoint.id, {})).deliveries;
      const times = await attemptTimes(delivery?.id as string);
      const due = new Date(delivery?.nextAttemptAt as string).getTime();
      expect(Math.abs(due - (times[1] as number) - (retryDelaysMs[2] as number) * factor)).toBeLessThanOrEqual(1);
      await webhooks.deleteEndpoint(endpoint.id);
    }
  });

  it('gives up after 8 attempts, about 27.5 hours, and keeps every attempt with its status and excerpt', async () => {
    const webhooks = await service();
    const { endpoint } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
    receiver.answer = (_request, response) => response.writeHead(500).end('x'.repeat(5_000));
    await addUsers(1);
    await runUntilSettled(webhooks);
    const [delivery] = (await webhooks.listDeliveries(endpoint.id, {})).deliveries;
    expect(delivery).toMatchObject({ status: 'failed', attempts: 8, lastStatus: 500, nextAttemptAt: null });
    const { attempts } = await webhooks.getDelivery(delivery?.id as string);
    expect(attempts.map((attempt) => attempt.status)).toEqual(Array(8).fill(500));
    expect(attempts.every((attempt) => attempt.excerpt.length === 1024)).toBe(true);
    const total = retryDelaysMs.reduce((sum, delay) => sum + delay, 0) * 1.05;
    expect(now - start).toBeCloseTo(total, -3);
    // Failing for 27.5 h is not yet 5 days: still enabled, and failing since the first attempt.
    expect(await webhooks.getEndpoint(endpoint.id)).toMatchObject({
      enabled: true,
      failingSince: new Date(start).toISOString(),
    });
  });

  it('a 410 disables the endpoint at once; its pending deliveries wait, and go out when it is enabled again', async () => {
    const webhooks = await service();
    const { endpoint } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
    receiver.answer = (_request, response) => response.writeHead(410).end('gone');
    await addUsers(1);
    await webhooks.runDue();
    expect(await webhooks.getEndpoint(endpoint.id)).toMatchObject({ enabled: false, disabledReason: 'gone' });
    const [gone] = (await webhooks.listDeliveries(endpoint.id, {})).deliveries;
    expect(gone).toMatchObject({ status: 'failed', attempts: 1, lastStatus: 410 });
    // Disabled: events now make no deliveries for it, and nothing is sent.
    await addUsers(2, 'while-disabled');
    await webhooks.runDue();
    expect(receiver.requests).toHaveLength(1);
    expect((await webhooks.listDeliveries(endpoint.id, {})).deliveries).toHaveLength(1);
    // Enabled again, then the missed events replayed: they are made and delivered.
    receiver.answer = (_request, response) => response.writeHead(200).end();
    await webhooks.updateEndpoint(endpoint.id, { enabled: true });
    expect(await webhooks.replay(new Date(start - 60_000))).toEqual({ resent: 1, created: 2 });
    await runUntilSettled(webhooks);
    const after = (await webhooks.listDeliveries(endpoint.id, {})).deliveries;
    expect(after.map((delivery) => delivery.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(new Set(receiver.requests.map((request) => request.id)).size).toBe(3);
  });

  it('an endpoint failing every delivery for 5 days is disabled', async () => {
    const webhooks = await service();
    const { endpoint } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
    receiver.answer = (_request, response) => response.writeHead(503).end();
    for (let day = 0; day <= 5; day++) {
      now = start + day * 24 * 3_600_000;
      await addUsers(1, `day${day}`);
      await webhooks.runDue();
    }
    // The last failure came 5 days after the first.
    expect(now - start).toBe(failingDisablesAfterMs);
    expect(await webhooks.getEndpoint(endpoint.id)).toMatchObject({ enabled: false, disabledReason: 'failing' });
  });

  it('one success in between starts the 5 days again', async () => {
    const webhooks = await service();
    const { endpoint } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
    for (let day = 0; day <= 5; day++) {
      now = start + day * 24 * 3_600_000;
      receiver.answer = (_request, response) => response.writeHead(day === 3 ? 200 : 503).end();
      await addUsers(1, `day${day}`);
      await webhooks.runDue();
    }
    expect(await webhooks.getEndpoint(endpoint.id)).toMatchObject({
      enabled: true,
      failingSince: new Date(start + 4 * 24 * 3_600_000).toISOString(),
    });
  });

  it('four instances sending at once send each attempt once', async () => {
    const instances = [await service(), await service(), await service(), await service()];
    await instances[0]?.createEndpoint({ url: receiver.url, events: ['user.created'] });
    await addUsers(400);
    // Dispatched first, so that all four claim from the same due deliveries at once.
    await instances[0]?.runDue();
    receiver.requests.length = 0;
    await database.query(
      "UPDATE plinth.webhook_deliveries SET status = 'pending', next_attempt_at = $1::text::timestamptz",
      [new Date(now).toISOString()],
    );
    await Promise.all(instances.map((instance) => instance.runDue()));
    const ids = receiver.requests.map((request) => request.id);
    expect(new Set(ids).size).toBe(400);
    expect(ids).toHaveLength(400);
  });

  it('signs with the new secret and, for 24 hours after a rotation, the old one too', async () => {
    const webhooks = await service();
    const { endpoint, secret: first } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
    const { secret: second, endpoint: rotated } = await webhooks.rotateSecret(endpoint.id);
    expect(second).not.toBe(first);
    expect(rotated.previousSecretExpiresAt).toBe(new Date(start + 24 * 3_600_000).toISOString());
    await addUsers(1, 'during');
    await webhooks.runDue();
    now = start + 24 * 3_600_000 + 1;
    await addUsers(1, 'after');
    await webhooks.runDue();
    const [during, after] = receiver.requests;
    const expected = async (secret: string, request: typeof during) =>
      signWebhook(secret, request?.id as string, Number(request?.timestamp), request?.body as string);
    expect(during?.signature).toBe(`${await expected(second, during)} ${await expected(first, during)}`);
    expect(after?.signature).toBe(await expected(second, after));
    expect(Number(after?.timestamp)).toBe(Math.floor(now / 1000));
  });

  it('sends the event as {type, timestamp, data}, the same bytes on every attempt', async () => {
    const webhooks = await service();
    await webhooks.createEndpoint({ url: receiver.url, events: ['user.created', 'user.deleted'] });
    receiver.answer = ({ attempt }, response) => response.writeHead(attempt === 1 ? 500 : 200).end();
    await addUsers(1, 'shape');
    await database.query("DELETE FROM plinth.users WHERE email LIKE 'shape-%'");
    await runUntilSettled(webhooks);
    // Two deliveries, two attempts each, the second attempt the same bytes as the first.
    const byId = new Map<string, Receiver['requests']>();
    for (const request of receiver.requests) byId.set(request.id, [...(byId.get(request.id) ?? []), request]);
    expect(byId.size).toBe(2);
    for (const attempts of byId.values()) {
      expect(attempts).toHaveLength(2);
      expect(attempts[1]?.body).toBe(attempts[0]?.body);
    }
    const bodies = [...byId.values()].map((attempts) => JSON.parse(attempts[0]?.body as string));
    expect(bodies.map((body) => body.type).sort()).toEqual(['user.created', 'user.deleted']);
    const created = bodies.find((body) => body.type === 'user.created');
    expect(created).toEqual({
      type: 'user.created',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      data: {
        user: {
          id: expect.any(String),
          email: expect.stringMatching(/^shape-/),
          emailVerified: false,
          createdAt: expect.any(String),
        },
      },
    });
  });

  it('takes only the event types an endpoint names, and nothing from before it existed or from app broadcasts', async () => {
    const webhooks = await service();
    await addUsers(2, 'before');
    const { endpoint } = await webhooks.createEndpoint({ url: receiver.url, events: ['user.deleted'] });
    await addUsers(2, 'after');
    await database.query("SELECT plinth.publish_event('chat', 'user.deleted', '{}'::jsonb)");
    await database.query("DELETE FROM plinth.users WHERE email LIKE 'before-%'");
    await webhooks.runDue();
    const types = receiver.requests.map((request) => JSON.parse(request.body).type);
    expect(types).toEqual(['user.deleted', 'user.deleted']);
    expect((await webhooks.listDeliveries(endpoint.id, {})).deliveries).toHaveLength(2);
  });

  it('revoked sessions are reported once each', async () => {
    const webhooks = await service();
    await webhooks.createEndpoint({ url: receiver.url, events: ['session.revoked'] });
    await addUsers(1, 'sessions');
    await database.query(
      `INSERT INTO plinth.sessions (user_id, not_after) SELECT id, now() + interval '1 day' FROM plinth.users, generate_series(1, 2)`,
    );
    await database.query("UPDATE plinth.sessions SET revoked_at = now(), revoked_reason = 'admin'");
    // Revoking again changes nothing and reports nothing.
    await database.query("UPDATE plinth.sessions SET revoked_at = now(), revoked_reason = 'again'");
    await webhooks.runDue();
    const sessions = receiver.requests.map((request) => JSON.parse(request.body).data.session);
    expect(sessions).toHaveLength(2);
    expect(sessions.every((session) => session.reason === 'admin')).toBe(true);
  });

  it('the log is not pruned past what webhooks have turned into deliveries', async () => {
    const webhooks = await service();
    await webhooks.createEndpoint({ url: receiver.url, events: ['user.created'] });
    await webhooks.runDue();
    const [state] = await database.query<{ through: string }>(
      'SELECT dispatched_through::text AS through FROM plinth.webhook_state',
    );
    await addUsers(150, 'kept');
    const newer = async () =>
      Number(
        (
          await database.query<{ count: number }>(
            'SELECT count(*)::int AS count FROM plinth.events WHERE id > $1::bigint',
            [state?.through],
          )
        )[0]?.count,
      );
    const realtime = await createRealtimeService({
      database,
      logger,
      tickets: realtimeTickets(randomBytes(32)),
      streamUrl: () => 'http://127.0.0.1/v1/realtime/stream',
      options: { retentionEvents: 100 },
    });
    try {
      // 150 new events over a cap of 100, none dispatched yet: retention keeps them all.
      await realtime.prune();
      expect(await newer()).toBe(150);
      await webhooks.runDue();
      expect(receiver.requests).toHaveLength(150);
      // Dispatched: now the log is cut to the newest 100.
      await realtime.prune();
      expect(await newer()).toBe(100);
      const [all] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM plinth.events');
      expect(all?.count).toBe(100);
    } finally {
      await realtime.close();
    }
  });
});
