import { randomBytes, randomInt } from 'node:crypto';
import {
  signWebhook,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  webhookEventTypes,
  webhookHeaders,
} from '@plinth/protocol';
import type { Logger } from 'pino';
import type { Database, Queryable } from '../database/database.js';
import { eventColumns, eventFromRow, eventsChannel, type LoggedEvent } from '../events/event-log.js';
import { HttpError } from '../http/http-error.js';
import { destinationProblem, type Resolve } from './destination-guard.js';
import { sendWebhook, type WebhookAttemptResult } from './send-webhook.js';
import { failingDisablesAfterMs, nextAttemptAt } from './webhook-schedule.js';

/** How the webhooks service sends and when. */
export interface WebhooksOptions {
  /** Private and loopback destinations allowed (local development). Default false. */
  allowPrivateDestinations?: boolean;
  /** One attempt's limit, in ms. Default 15 000. */
  timeoutMs?: number;
  /** How often due retries are looked for, in ms (new events also wake it). Default 1 000. */
  pollMs?: number;
  /** Attempts in flight at once, per instance. Default 32. */
  concurrency?: number;
  /** false: nothing runs by itself, `runDue()` does the work (tests with a fake clock). Default true. */
  autoRun?: boolean;
  /** The time, in ms since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** [0, 1), for the retries' jitter. Default `Math.random`. */
  random?: () => number;
  /** How host names are resolved (tests). Default the system resolver. */
  resolve?: Resolve;
}

/** What an endpoint is made or changed with. */
export interface EndpointInput {
  url?: string | undefined;
  events?: readonly string[] | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
}

/** Endpoints, deliveries, and the loop that sends them (schema/013-webhooks.sql). */
export interface WebhooksService {
  createEndpoint(input: EndpointInput & { url: string; events: readonly string[] }): Promise<{
    endpoint: WebhookEndpoint;
    secret: string;
  }>;
  listEndpoints(page: { limit?: number | undefined; cursor?: string | undefined }): Promise<{
    endpoints: WebhookEndpoint[];
    nextCursor: string | null;
  }>;
  getEndpoint(id: string): Promise<WebhookEndpoint>;
  updateEndpoint(id: string, input: EndpointInput): Promise<WebhookEndpoint>;
  deleteEndpoint(id: string): Promise<boolean>;
  rotateSecret(id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }>;
  listDeliveries(
    endpointId: string,
    page: { status?: WebhookDelivery['status'] | undefined; limit?: number | undefined; cursor?: string | undefined },
  ): Promise<{ deliveries: WebhookDelivery[]; nextCursor: string | null }>;
  getDelivery(id: string): Promise<{ delivery: WebhookDelivery; attempts: WebhookAttempt[] }>;
  redeliver(id: string): Promise<WebhookDelivery>;
  /**
   * Sends again what did not succeed since `since`: failed deliveries go back to pending, and
   * events still in the log that an enabled endpoint takes but has no delivery for get one.
   */
  replay(since: Date, endpointId?: string): Promise<{ resent: number; created: number }>;
  /** Turns new events into deliveries, then sends every delivery due now, until none is. */
  runDue(): Promise<void>;
  close(): Promise<void>;
}

/** A rotated-out secret keeps signing alongside the new one this long. */
export const previousSecretMs = 24 * 3_600_000;

// Log rows turned into deliveries per transaction.
const dispatchPage = 500;
// Channels whose events webhooks carry: the server's own. App broadcasts stay on realtime.
const webhookChannels = /^(plinth:|storage:|table:)/;
const knownTypes = new Set<string>(webhookEventTypes);
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * An id that sorts by creation time (`COLLATE "C"`): the time in base 36, 9 digits, then 16
 * random characters. Delivery ids are the `webhook-id` receivers deduplicate by.
 *
 * @example
 * ```ts
 * newId('msg_', Date.now()); // 'msg_mfx3k2p0aQ3vX9kLm2Rt8ZpYw'
 * ```
 */
export function newId(prefix: 'msg_' | 'whe_', now: number): string {
  let random = '';
  for (let i = 0; i < 16; i++) random += alphabet[randomInt(alphabet.length)];
  return `${prefix}${now.toString(36).padStart(9, '0')}${random}`;
}

/** A new `whsec_` secret: 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());
const at = (ms: number) => new Date(ms).toISOString();

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: Date | string | null;
  previous_secret_expires_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const endpointColumns = `id, url, events, description, enabled, disabled_reason, failing_since,
  previous_secret_expires_at, created_at, updated_at`;

const endpointOf = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  url: row.url,
  events: row.events,
  description: row.description,
  enabled: row.enabled,
  disabledReason: row.disabled_reason,
  failingSince: iso(row.failing_since),
  previousSecretExpiresAt: iso(row.previous_secret_expires_at),
  createdAt: iso(row.created_at) as string,
  updatedAt: iso(row.updated_at) as string,
});

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: WebhookDelivery['status'];
  attempts: number;
  next_attempt_at: Date | string | null;
  last_status: number | null;
  last_excerpt: string | null;
  last_duration_ms: number | null;
  created_at: Date | string;
  delivered_at: Date | string | null;
}

const deliveryColumns = `id, endpoint_id, event_id::text AS event_id, event_type, status, attempts, next_attempt_at,
  last_status, last_excerpt, last_duration_ms, created_at, delivered_at`;

const deliveryOf = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  endpointId: row.endpoint_id,
  eventId: row.event_id,
  eventType: row.event_type,
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
  lastStatus: row.last_status,
  lastExcerpt: row.last_excerpt,
  lastDurationMs: row.last_duration_ms,
  createdAt: iso(row.created_at) as string,
  deliveredAt: iso(row.delivered_at),
});

/** A claimed delivery, with what sending it needs. */
interface ClaimedRow {
  id: string;
  /** Attempts made before this one. */
  attempts: number;
  body: string;
  endpoint_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | string | null;
}

/** One attempt made, to record. */
interface Outcome {
  delivery: ClaimedRow;
  startedAt: number;
  result: WebhookAttemptResult;
}

/** Outcomes by endpoint. */
function groupByEndpoint(outcomes: readonly Outcome[]): Map<string, Outcome[]> {
  const groups = new Map<string, Outcome[]>();
  for (const outcome of outcomes) {
    const group = groups.get(outcome.delivery.endpoint_id);
    if (group) group.push(outcome);
    else groups.set(outcome.delivery.endpoint_id, [outcome]);
  }
  return groups;
}

/** Does an endpoint that takes `events` take an event of `type`? */
const takes = (events: readonly string[], type: string) => events.includes('*') || events.includes(type);

/**
 * The body every attempt of a delivery sends, as Standard Webhooks suggests: the event's type,
 * when it happened, and its payload as the log holds it.
 */
const deliveryBody = (event: LoggedEvent) =>
  `{"type":${JSON.stringify(event.type)},"timestamp":${JSON.stringify(event.at)},"data":${event.payloadJson}}`;

interface EndpointTaste {
  id: string;
  events: string[];
  after_event: string;
}

/** The deliveries a page of events makes: one per event and endpoint that takes it. */
function deliveriesFor(events: readonly LoggedEvent[], endpoints: readonly EndpointTaste[], now: number) {
  return events.flatMap((event) =>
    !webhookChannels.test(event.channel) || !knownTypes.has(event.type)
      ? []
      : endpoints
          .filter((endpoint) => event.seq > BigInt(endpoint.after_event) && takes(endpoint.events, event.type))
          .map((endpoint) => ({
            id: newId('msg_', now),
            endpoint_id: endpoint.id,
            event_id: event.id,
            event_type: event.type,
            body: deliveryBody(event),
          })),
  );
}

/** Writes deliveries, due now; one that exists already (same endpoint and event) is left as it is. */
async function insertDeliveries(tx: Queryable, deliveries: ReturnType<typeof deliveriesFor>, now: number) {
  if (deliveries.length === 0) return 0;
  const inserted = await tx.run(
    `INSERT INTO plinth.webhook_deliveries (id, endpoint_id, event_id, event_type, body, next_attempt_at, created_at)
     SELECT d.id, d.endpoint_id, d.event_id, d.event_type, d.body, $2::text::timestamptz, $2::text::timestamptz
       FROM jsonb_to_recordset($1::text::jsonb) AS d(id text, endpoint_id text, event_id bigint, event_type text, body text)
     ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
    [JSON.stringify(deliveries), at(now)],
  );
  return inserted.rowCount;
}

const enabledEndpoints = `SELECT id, events, after_event::text AS after_event FROM plinth.webhook_endpoints
  WHERE enabled AND ($1::text IS NULL OR id = $1)`;

/**
 * The webhooks service: endpoints and their secrets, the deliveries made from the durable event
 * log, and the loop that sends them on the retry schedule. Every instance runs the loop; an
 * instance claims a delivery for the length of one attempt (`FOR UPDATE SKIP LOCKED` and a
 * lease), so two never send it at once, and a delivery an instance died while sending is tried
 * again when its lease ends. Receivers get each delivery at least once, under the same
 * `webhook-id` every time: they deduplicate on it.
 *
 * @example
 * ```ts
 * const webhooks = await createWebhooksService({ database, logger });
 * const { endpoint, secret } = await webhooks.createEndpoint({ url: 'https://example.com/hooks', events: ['user.created'] });
 * ```
 */
export async function createWebhooksService({
  database,
  logger,
  options = {},
}: {
  database: Database;
  logger: Logger;
  options?: WebhooksOptions;
}): Promise<WebhooksService> {
  const {
    allowPrivateDestinations = false,
    timeoutMs = 15_000,
    pollMs = 1_000,
    concurrency = 32,
    autoRun = true,
    clock = Date.now,
    random = Math.random,
    resolve,
  } = options;
  // A claim outlives its attempt by a minute: an instance that died mid-send loses it then.
  const leaseMs = timeoutMs + 60_000;
  // Whether the last dispatch found an enabled endpoint. While none is, a commit's NOTIFY does
  // not wake the loop (every realtime event would cost a run); the poll moves the cursor, and
  // an endpoint made or enabled on another instance is picked up within `pollMs`.
  let delivering = true;

  function checkedEvents(events: readonly string[]): string[] {
    for (const [index, type] of events.entries()) {
      if (type !== '*' && !knownTypes.has(type)) {
        throw new HttpError(
          'validation_failed',
          `events.${index}: ${type} is not an event webhooks carry; use one of ${webhookEventTypes.join(', ')}, or * for all.`,
          { field: `events.${index}` },
        );
      }
    }
    return [...new Set(events)];
  }

  function checkedUrl(url: string): string {
    const problem = destinationProblem(url, { allowPrivate: allowPrivateDestinations });
    if (problem)
      throw new HttpError('validation_failed', problem.startsWith('url') ? problem : `url: ${problem}`, {
        field: 'url',
      });
    return url;
  }

  async function endpointRow(id: string, tx: Queryable = database): Promise<EndpointRow> {
    const [row] = await tx.query<EndpointRow>(`SELECT ${endpointColumns} FROM plinth.webhook_endpoints WHERE id = $1`, [
      id,
    ]);
    if (!row) throw new HttpError('not_found', `There is no webhook endpoint ${id}.`, { field: 'id' });
    return row;
  }

  /** Turns the log's new events into deliveries, a page per transaction; answers how many. */
  async function dispatch(): Promise<number> {
    // Without the lock first: most ticks (the poll, a commit with no endpoint to serve) find the
    // cursor at the head and write nothing.
    const [behind] = await database.query<{ behind: boolean }>(
      `SELECT coalesce((SELECT max(id) FROM plinth.events), 0) > dispatched_through AS behind
         FROM plinth.webhook_state`,
    );
    if (!behind?.behind) return 0;
    let made = 0;
    for (;;) {
      const page = await database.transaction(async (tx) => {
        // The row lock makes instances dispatch one after another: each event once.
        const [state] = await tx.query<{ through: string }>(
          'SELECT dispatched_through::text AS through FROM plinth.webhook_state FOR UPDATE',
        );
        const through = state?.through ?? '0';
        const endpoints = await tx.query<EndpointTaste>(enabledEndpoints, [null]);
        delivering = endpoints.length > 0;
        if (endpoints.length === 0) {
          // Nobody to deliver to: skip to the head without reading the events.
          await tx.query(
            'UPDATE plinth.webhook_state SET dispatched_through = (SELECT coalesce(max(id), $1::bigint) FROM plinth.events)',
            [through],
          );
          return { read: 0, made: 0 };
        }
        const rows = await tx.query(
          `SELECT ${eventColumns} FROM plinth.events WHERE id > $1::bigint ORDER BY plinth.events.id LIMIT ${dispatchPage}`,
          [through],
        );
        const events = rows.map(eventFromRow);
        const last = events.at(-1);
        if (!last) return { read: 0, made: 0 };
        const now = clock();
        const made = await insertDeliveries(tx, deliveriesFor(events, endpoints, now), now);
        await tx.query('UPDATE plinth.webhook_state SET dispatched_through = $1::bigint', [last.id]);
        return { read: events.length, made };
      });
      made += page.made;
      if (page.read < dispatchPage) return made;
    }
  }

  /** Claims up to `limit` due deliveries of enabled endpoints for this instance. */
  async function claim(limit: number): Promise<ClaimedRow[]> {
    const now = clock();
    return database.query<ClaimedRow>(
      `UPDATE plinth.webhook_deliveries d SET next_attempt_at = $2::text::timestamptz
         FROM plinth.webhook_endpoints e
        WHERE e.id = d.endpoint_id AND d.id IN (
          SELECT due.id FROM plinth.webhook_deliveries due
            JOIN plinth.webhook_endpoints ee ON ee.id = due.endpoint_id AND ee.enabled
           WHERE due.status = 'pending' AND due.next_attempt_at <= $1::text::timestamptz
           ORDER BY due.next_attempt_at LIMIT $3
             FOR UPDATE OF due SKIP LOCKED)
        RETURNING d.id, d.attempts, d.body, d.endpoint_id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at`,
      [at(now), at(now + leaseMs), limit],
    );
  }

  /** One attempt of a claimed delivery, signed with every secret in force. */
  async function attempt(delivery: ClaimedRow, now: number): Promise<WebhookAttemptResult> {
    const timestamp = Math.floor(now / 1000);
    const secrets = [delivery.secret];
    if (
      delivery.previous_secret &&
      delivery.previous_secret_expires_at &&
      new Date(delivery.previous_secret_expires_at).getTime() > now
    ) {
      secrets.push(delivery.previous_secret);
    }
    const signatures = await Promise.all(
      secrets.map((secret) => signWebhook(secret, delivery.id, timestamp, delivery.body)),
    );
    return sendWebhook({
      url: delivery.url,
      headers: {
        'content-type': 'application/json',
        [webhookHeaders.id]: delivery.id,
        [webhookHeaders.timestamp]: String(timestamp),
        [webhookHeaders.signature]: signatures.join(' '),
      },
      body: delivery.body,
      timeoutMs,
      allowPrivate: allowPrivateDestinations,
      ...(resolve ? { resolve } : {}),
    });
  }

  /**
   * Records a batch of attempts in one transaction: each attempt, each delivery's next step, and
   * each endpoint's health. One transaction per batch, not per attempt: on PGlite every statement
   * waits its turn on one thread, and recording was most of a delivery's cost.
   */
  async function record(outcomes: readonly Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const rows = outcomes.map(({ delivery, result, startedAt }) => {
      const made = delivery.attempts + 1;
      const gone = result.status === 410;
      const next = result.ok || gone ? undefined : nextAttemptAt(made, startedAt, random);
      return {
        id: delivery.id,
        attempt: made,
        status: result.ok ? 'succeeded' : next === undefined ? 'failed' : 'pending',
        next_at: next === undefined ? null : at(next),
        http_status: result.status ?? null,
        error: result.error?.code ?? null,
        excerpt: result.error ? result.error.message : result.excerpt,
        duration_ms: result.durationMs,
        at: at(startedAt),
      };
    });
    const now = clock();
    await database.transaction(async (tx) => {
      const recordset = `jsonb_to_recordset($1::text::jsonb) AS o(id text, attempt int, status text, next_at text,
        http_status int, error text, excerpt text, duration_ms int, at text)`;
      await tx.query(
        `UPDATE plinth.webhook_deliveries d SET attempts = o.attempt, status = o.status,
           next_attempt_at = o.next_at::timestamptz, last_status = o.http_status, last_excerpt = o.excerpt,
           last_duration_ms = o.duration_ms,
           delivered_at = CASE WHEN o.status = 'succeeded' THEN o.at::timestamptz ELSE d.delivered_at END
          FROM ${recordset} WHERE d.id = o.id`,
        [JSON.stringify(rows)],
      );
      // A delivery whose endpoint was deleted during the attempt is gone, and so is its record.
      await tx.query(
        `INSERT INTO plinth.webhook_attempts (delivery_id, attempt, at, status, error, excerpt, duration_ms)
         SELECT o.id, o.attempt, o.at::timestamptz, o.http_status, o.error, o.excerpt, o.duration_ms FROM ${recordset}
          WHERE EXISTS (SELECT 1 FROM plinth.webhook_deliveries d WHERE d.id = o.id)
         ON CONFLICT (delivery_id, attempt) DO NOTHING`,
        [JSON.stringify(rows)],
      );
      for (const [endpointId, results] of groupByEndpoint(outcomes)) {
        await recordHealth(tx, endpointId, results, now);
      }
    });
  }

  /** An endpoint's health after a batch: healthy on any success, else failing since its first failure. */
  async function recordHealth(tx: Queryable, endpointId: string, outcomes: readonly Outcome[], now: number) {
    const gone = outcomes.some((outcome) => outcome.result.status === 410);
    if (!gone && outcomes.some((outcome) => outcome.result.ok)) {
      await tx.query(
        'UPDATE plinth.webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL',
        [endpointId],
      );
      return;
    }
    const firstFailure = Math.min(...outcomes.map((outcome) => outcome.startedAt));
    const [endpoint] = await tx.query<{ failing_since: Date | string }>(
      `UPDATE plinth.webhook_endpoints SET failing_since = coalesce(failing_since, $2::text::timestamptz)
        WHERE id = $1 RETURNING failing_since`,
      [endpointId, at(firstFailure)],
    );
    const failingFor = endpoint ? now - new Date(endpoint.failing_since).getTime() : 0;
    const reason = gone ? 'gone' : failingFor >= failingDisablesAfterMs ? 'failing' : undefined;
    if (!reason) return;
    await tx.query(
      `UPDATE plinth.webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = $3::text::timestamptz
        WHERE id = $1 AND enabled`,
      [endpointId, reason, at(now)],
    );
    logger.warn({ endpoint: endpointId, reason }, 'webhooks: endpoint disabled');
  }

  async function runDue(): Promise<void> {
    await dispatch();
    for (;;) {
      const claimed = await claim(concurrency);
      const outcomes = await Promise.all(
        claimed.map(async (delivery): Promise<Outcome> => {
          const startedAt = clock();
          return { delivery, startedAt, result: await attempt(delivery, startedAt) };
        }),
      );
      await record(outcomes);
      if (claimed.length < concurrency) return;
    }
  }

  // One run at a time per instance; a wake-up during a run makes one more after it.
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const tick = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await runDue();
      } while (again && !closed);
    })()
      .catch((error: unknown) => {
        // Nothing is lost: the cursor and the claims are in the database; the next tick goes on.
        logger.warn({ err: { message: (error as Error).message } }, 'webhooks: a run failed; trying again');
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  let stopListening: (() => Promise<void>) | undefined;
  let poll: NodeJS.Timeout | undefined;
  if (autoRun) {
    stopListening = await database.listen(
      eventsChannel,
      () => {
        if (delivering) void tick();
      },
      () => void tick(),
    );
    poll = setInterval(() => void tick(), pollMs);
    poll.unref();
    void tick();
  }

  return {
    async createEndpoint(input) {
      const url = checkedUrl(input.url);
      const events = checkedEvents(input.events);
      const secret = newSecret();
      const now = clock();
      const [row] = await database.query<EndpointRow>(
        `INSERT INTO plinth.webhook_endpoints (id, url, events, description, enabled, secret, after_event, created_at, updated_at)
         VALUES ($1, $2, $3::text[], $4, $5, $6, (SELECT coalesce(max(id), 0) FROM plinth.events),
                 $7::text::timestamptz, $7::text::timestamptz)
         RETURNING ${endpointColumns}`,
        [newId('whe_', now), url, events, input.description ?? '', input.enabled ?? true, secret, at(now)],
      );
      delivering = true;
      return { endpoint: endpointOf(row as EndpointRow), secret };
    },

    async listEndpoints({ limit = 100, cursor }) {
      const rows = await database.query<EndpointRow>(
        `SELECT ${endpointColumns} FROM plinth.webhook_endpoints
          WHERE $1::text IS NULL OR id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`,
        [cursor ?? null, limit + 1],
      );
      const page = rows.slice(0, limit);
      return {
        endpoints: page.map(endpointOf),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async getEndpoint(id) {
      return endpointOf(await endpointRow(id));
    },

    async updateEndpoint(id, input) {
      const url = input.url === undefined ? null : checkedUrl(input.url);
      const events = input.events === undefined ? null : checkedEvents(input.events);
      const [row] = await database.query<EndpointRow>(
        `UPDATE plinth.webhook_endpoints SET url = coalesce($2, url), events = coalesce($3::text[], events),
           description = coalesce($4, description), enabled = coalesce($5, enabled),
           disabled_reason = CASE WHEN $5 IS NULL THEN disabled_reason ELSE NULL END,
           failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END,
           updated_at = $6::text::timestamptz
         WHERE id = $1 RETURNING ${endpointColumns}`,
        [id, url, events, input.description ?? null, input.enabled ?? null, at(clock())],
      );
      if (!row) throw new HttpError('not_found', `There is no webhook endpoint ${id}.`, { field: 'id' });
      if (row.enabled) delivering = true;
      return endpointOf(row);
    },

    async deleteEndpoint(id) {
      const deleted = await database.run('DELETE FROM plinth.webhook_endpoints WHERE id = $1', [id]);
      return deleted.rowCount > 0;
    },

    async rotateSecret(id) {
      const secret = newSecret();
      const now = clock();
      const [row] = await database.query<EndpointRow>(
        `UPDATE plinth.webhook_endpoints SET previous_secret = secret, secret = $2,
           previous_secret_expires_at = $3::text::timestamptz, updated_at = $4::text::timestamptz
         WHERE id = $1 RETURNING ${endpointColumns}`,
        [id, secret, at(now + previousSecretMs), at(now)],
      );
      if (!row) throw new HttpError('not_found', `There is no webhook endpoint ${id}.`, { field: 'id' });
      return { endpoint: endpointOf(row), secret };
    },

    async listDeliveries(endpointId, { status, limit = 100, cursor }) {
      await endpointRow(endpointId);
      const rows = await database.query<DeliveryRow>(
        `SELECT ${deliveryColumns} FROM plinth.webhook_deliveries
          WHERE endpoint_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR id COLLATE "C" < $3)
          ORDER BY id COLLATE "C" DESC LIMIT $4`,
        [endpointId, status ?? null, cursor ?? null, limit + 1],
      );
      const page = rows.slice(0, limit);
      return {
        deliveries: page.map(deliveryOf),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async getDelivery(id) {
      const [row] = await database.query<DeliveryRow>(
        `SELECT ${deliveryColumns} FROM plinth.webhook_deliveries WHERE id = $1`,
        [id],
      );
      if (!row) throw new HttpError('not_found', `There is no webhook delivery ${id}.`, { field: 'deliveryId' });
      const attempts = await database.query<{
        attempt: number;
        at: Date | string;
        status: number | null;
        error: string | null;
        excerpt: string;
        duration_ms: number;
      }>(
        'SELECT attempt, at, status, error, excerpt, duration_ms FROM plinth.webhook_attempts WHERE delivery_id = $1 ORDER BY attempt',
        [id],
      );
      return {
        delivery: deliveryOf(row),
        attempts: attempts.map((a) => ({
          attempt: a.attempt,
          at: iso(a.at) as string,
          status: a.status,
          error: a.error,
          excerpt: a.excerpt,
          durationMs: a.duration_ms,
        })),
      };
    },

    async redeliver(id) {
      const [row] = await database.query<DeliveryRow>(
        `UPDATE plinth.webhook_deliveries SET status = 'pending', next_attempt_at = $2::text::timestamptz
          WHERE id = $1 RETURNING ${deliveryColumns}`,
        [id, at(clock())],
      );
      if (!row) throw new HttpError('not_found', `There is no webhook delivery ${id}.`, { field: 'deliveryId' });
      void tick();
      return deliveryOf(row);
    },

    async replay(since, endpointId) {
      if (endpointId !== undefined) await endpointRow(endpointId);
      const now = clock();
      const resent = await database.run(
        `UPDATE plinth.webhook_deliveries SET status = 'pending', next_attempt_at = $2::text::timestamptz
          WHERE status = 'failed' AND created_at >= $1::text::timestamptz AND ($3::text IS NULL OR endpoint_id = $3)`,
        [since.toISOString(), at(now), endpointId ?? null],
      );
      const endpoints = await database.query<EndpointTaste>(enabledEndpoints, [endpointId ?? null]);
      let created = 0;
      let cursor = '0';
      for (;;) {
        const rows = await database.query(
          `SELECT ${eventColumns} FROM plinth.events
            WHERE created_at >= $1::text::timestamptz AND id > $2::bigint
              AND id <= (SELECT dispatched_through FROM plinth.webhook_state)
            ORDER BY plinth.events.id LIMIT ${dispatchPage}`,
          [since.toISOString(), cursor],
        );
        const events = rows.map(eventFromRow);
        created += await insertDeliveries(database, deliveriesFor(events, endpoints, now), now);
        const last = events.at(-1);
        if (!last || events.length < dispatchPage) break;
        cursor = last.id;
      }
      void tick();
      return { resent: resent.rowCount, created };
    },

    runDue,

    async close() {
      closed = true;
      if (poll) clearInterval(poll);
      await stopListening?.();
      // An attempt in flight may take up to its timeout; closing does not wait that long. One cut
      // short is recorded by nobody, and its claim's lease runs out: it is sent again.
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    },
  };
}
