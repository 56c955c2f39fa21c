import type { Queryable } from '../database/database.js';

/** The channel the database announces new events on: one `NOTIFY` per transaction, at commit. */
export const eventsChannel = 'plinth_events';

/** An event of the durable log (`plinth.events`), as streams and webhooks read it. */
export interface LoggedEvent {
  /** The log id, a growing bigint, as a decimal string. */
  readonly id: string;
  /** The log id as a number that compares without loss. */
  readonly seq: bigint;
  readonly channel: string;
  readonly type: string;
  /** The payload as the database wrote it, JSON text: sent on as it is, never re-encoded. */
  readonly payloadJson: string;
  /** The payload parsed, on first read: most events are only ever sent on, never looked into. */
  readonly payload: unknown;
  /** When it was written, ISO 8601. */
  readonly at: string;
}

/** An event to write to the log. */
export interface NewEvent {
  readonly channel: string;
  readonly type: string;
  /** Any JSON; `undefined` is written as `null`. */
  readonly payload: unknown;
}

/**
 * Writes events to the durable log in the caller's transaction, so they exist exactly when the
 * change they report was committed. Goes through `plinth.publish_events`, which orders writers
 * so that ids commit in order, and writes a batch with one statement and one notification
 * (schema/011-realtime.sql). Answers the ids, in the order given.
 *
 * @example
 * ```ts
 * await database.transaction(async (tx) => {
 *   await tx.query('DELETE FROM ...');
 *   await publishEvents(tx, removed.map((object) => ({ channel: 'storage:avatars', type: 'object.deleted', payload: { object } })));
 * });
 * ```
 */
export async function publishEvents(tx: Queryable, events: readonly NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const written = events.map(({ channel, type, payload }) => ({ channel, type, payload: payload ?? null }));
  const rows = await tx.query<{ id: string }>(
    'SELECT id::text AS id FROM plinth.publish_events($1::text::jsonb) AS id',
    [JSON.stringify(written)],
  );
  if (rows.length !== events.length) {
    throw new Error(`plinth.publish_events answered ${rows.length} ids for ${events.length} events`);
  }
  return rows.map((row) => row.id);
}

/**
 * Writes one event to the durable log in the caller's transaction: {@link publishEvents} for one.
 *
 * @example
 * ```ts
 * await database.transaction(async (tx) => {
 *   await tx.query('UPDATE ...');
 *   await publishEvent(tx, 'storage:avatars', 'object.created', { object });
 * });
 * ```
 */
export async function publishEvent(tx: Queryable, channel: string, type: string, payload: unknown): Promise<string> {
  const [id] = await publishEvents(tx, [{ channel, type, payload }]);
  return id as string;
}

/**
 * The columns of an event row as {@link LoggedEvent} reads them. `id` is text here: order by
 * `plinth.events.id`, never by the alias, or `10` sorts before `9`.
 */
export const eventColumns = `id::text AS id, channel, type, payload::text AS payload,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at`;

/**
 * An event row read with {@link eventColumns}. The payload stays text until something reads
 * `payload` (a ticket's filter does; sending the event does not): the two drivers also differ on
 * whether jsonb comes back parsed.
 *
 * @example
 * ```ts
 * const rows = await database.query(`SELECT ${eventColumns} FROM plinth.events WHERE id > $1`, [cursor]);
 * const events = rows.map(eventFromRow);
 * ```
 */
export function eventFromRow(row: Record<string, unknown>): LoggedEvent {
  const id = String(row.id);
  const payloadJson = String(row.payload);
  let payload: unknown;
  let parsed = false;
  return {
    id,
    seq: BigInt(id),
    channel: String(row.channel),
    type: String(row.type),
    payloadJson,
    get payload() {
      if (!parsed) {
        payload = JSON.parse(payloadJson);
        parsed = true;
      }
      return payload;
    },
    at: String(row.at),
  };
}

/**
 * An event as the JSON that clients receive (`{ id, channel, type, payload, at }`, the shape of
 * `RealtimeEvent`), with the payload's text spliced in as the database wrote it.
 *
 * @example
 * ```ts
 * const data = eventJson(eventFromRow(row)); // '{"id":"42","channel":"chat","type":"message","payload":{...},"at":"..."}'
 * ```
 */
export function eventJson(event: LoggedEvent): string {
  return `{"id":${JSON.stringify(event.id)},"channel":${JSON.stringify(event.channel)},"type":${JSON.stringify(event.type)},"payload":${event.payloadJson},"at":${JSON.stringify(event.at)}}`;
}
