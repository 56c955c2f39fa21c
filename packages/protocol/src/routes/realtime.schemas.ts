import * as z from 'zod/mini';
import { conditionSchema } from './data.schemas.js';

/** The longest a realtime ticket may live: a day. */
export const maxTicketSeconds = 24 * 3600;

/**
 * A broadcast channel: letters, digits and `_ - . : /`, up to 200 characters. Channels that start
 * with `table:`, `storage:` or `plinth:` are the server's own (row changes, storage events): a
 * ticket may name `storage:<bucket>`, and nothing may broadcast on any of them.
 */
export const channelName = z.string().check(z.regex(/^[A-Za-z0-9_.:/-]{1,200}$/));

/** A broadcast's event name: letters, digits and `_ - .`, up to 64 characters. */
export const broadcastEventName = z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/));

/** A published table: `table` (in `public`) or `schema.table`. */
export const publishedTableName = z
  .string()
  .check(z.regex(/^(?:[A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/));

export const createTicketSchemas = {
  request: z.object({
    /** Broadcast channels, and `storage:<bucket>` for a bucket's object events. */
    channels: z.optional(z.array(channelName).check(z.maxLength(50))),
    /** Published tables whose row changes the stream carries. */
    tables: z.optional(z.array(publishedTableName).check(z.maxLength(50))),
    /**
     * Only rows that match: the `where` grammar of queries, checked on each change's row in
     * memory. A row that stops matching sends its subscriber a `leave` event.
     */
    where: z.optional(conditionSchema),
    /** The user the ticket is for: the stream ends when the user is removed or disabled. */
    userId: z.optional(z.string().check(z.uuid())),
    /** The session the ticket is for: the stream ends within a second of its revocation. */
    sessionId: z.optional(z.string().check(z.uuid())),
    /** Seconds until the ticket expires: default 600, at most a day. */
    expiresIn: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(maxTicketSeconds))),
  }),
  response: z.object({
    /** Sent as `Authorization: Ticket <ticket>`. */
    ticket: z.string(),
    /** The stream's absolute URL (`GET`). */
    url: z.string(),
    expiresAt: z.string(),
  }),
};

/** A ticket as the server answers it: what a browser needs to subscribe. */
export type RealtimeTicket = z.output<typeof createTicketSchemas.response>;

export const broadcastSchemas = {
  request: z.object({
    channel: channelName,
    event: broadcastEventName,
    /** Any JSON, at most 64 KiB once serialised. */
    payload: z.optional(z.unknown()),
  }),
  response: z.object({
    /** The event's id in the log: what `Last-Event-ID` resumes after. */
    id: z.string(),
  }),
};

/** The stream's answer is `text/event-stream`, not JSON. */
export const streamSchemas = {
  request: z.object({}),
  response: z.unknown(),
};

/**
 * One event of the stream, as the `data:` of an SSE message whose `id:` is `id` and whose
 * `event:` is `type`. Row changes: channel `table:<schema>.<table>`, type `row.insert`,
 * `row.update` or `row.delete`, payload `{ table, key, new?, old? }`. Storage: channel
 * `storage:<bucket>`, type `object.created` or `object.deleted`. Broadcasts: the channel and
 * the event name given, payload as sent.
 */
export interface RealtimeEvent {
  readonly id: string;
  readonly channel: string;
  readonly type: string;
  readonly payload: unknown;
  /** When it was written, ISO 8601. */
  readonly at: string;
}

/** Why the server ended a stream, in its `end` message. */
export const realtimeEndReasons = ['ticket_expired', 'session_revoked', 'user_removed', 'server_closing'] as const;

/**
 * The messages of `GET /v1/realtime/stream`, by SSE `event:` name (`data:` is JSON):
 * - `ready`, always first, `id:` the cursor the stream continues from: `{ cursor }`. Events
 *   committed after it was sent are delivered.
 * - an event of the log, `event:` its type and `id:` its id: a {@link RealtimeEvent}.
 * - `leave`, `id:` the id of the update that moved a row out of the ticket's filter: a
 *   {@link RealtimeEvent} whose type is `leave` and payload `{ table, key }`.
 * - `reset`, `id:` the cursor the stream continues from (the log's head): `{ cursor, reason }`.
 *   Events after the client's `Last-Event-ID` were pruned (retention), or that id is not one the
 *   log ever had: refetch what you show, then carry on from the cursor.
 * - `end`, no `id:`: `{ reason, message }`, and the server closes the stream. After
 *   `ticket_expired` a fresh ticket resumes from the last id; the others are final.
 * Comments (`: heartbeat`) keep proxies from closing an idle stream; `retry:` hints the wait
 * before reconnecting, in ms.
 */
export type RealtimeStreamMessage =
  | { readonly event: 'ready'; readonly id: string; readonly data: { readonly cursor: string } }
  | {
      readonly event: 'reset';
      readonly id: string;
      readonly data: { readonly cursor: string; readonly reason: 'retention' };
    }
  | {
      readonly event: 'end';
      readonly data: { readonly reason: (typeof realtimeEndReasons)[number]; readonly message: string };
    }
  | { readonly event: string; readonly id: string; readonly data: RealtimeEvent };
