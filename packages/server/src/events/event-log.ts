import type { Queryable } from '../database/database.js';

/** The channel the database announces new events on: one `NOTIFY` per transaction, at commit. */
export const eventsChannel = 'plinth_events';

/** An event of the durable log (`plinth.events`), as streams and webhooks read it. */
export interface LoggedEvent {
  /** The log id, a growing bigint, as a decimal string. */
  readonly id: string;
  readonly channel: string;
  readonly type: string;
  readonly payload: unknown;
  /** When it was written, ISO 8601. */
  readonly at: string;
}

/**
 * Writes an event to the durable log in the caller's transaction, so it exists exactly when the
 * change it reports was committed. Goes through `plinth.publish_event`, which orders writers so
 * that ids commit in order (schema/011-realtime.sql). Answers the event's id.
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
  const [row] = await tx.query<{ id: string }>('SELECT plinth.publish_event($1, $2, $3::text::jsonb)::text AS id', [
    channel,
    type,
    JSON.stringify(payload ?? null),
  ]);
  if (!row) throw new Error('plinth.publish_event answered no id');
  return row.id;
}

/**
 * The columns of an event row as {@link LoggedEvent} reads them. `id` is text here: order by
 * `plinth.events.id`, never by the alias, or `10` sorts before `9`.
 */
export const eventColumns = `id::text AS id, channel, type, payload::text AS payload,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at`;

/**
 * An event row read with {@link eventColumns}. The payload is read as text and parsed here:
 * the two drivers differ on whether jsonb comes back parsed.
 *
 * @example
 * ```ts
 * const rows = await database.query(`SELECT ${eventColumns} FROM plinth.events WHERE id > $1`, [cursor]);
 * const events = rows.map(eventFromRow);
 * ```
 */
export function eventFromRow(row: Record<string, unknown>): LoggedEvent {
  return {
    id: String(row.id),
    channel: String(row.channel),
    type: String(row.type),
    payload: JSON.parse(String(row.payload)),
    at: String(row.at),
  };
}
