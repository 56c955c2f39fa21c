import type { Logger } from 'pino';
import type { Database } from '../database/database.js';
import { eventColumns, eventFromRow, eventJson, type LoggedEvent } from '../events/event-log.js';
import type { EventHub, HubSubscriber } from './event-hub.js';
import type { TicketClaims } from './tickets.js';

/** Checks one row (as `to_jsonb` gives it) against a ticket's filter. */
export type RowMatcher = (row: Readonly<Record<string, unknown>>) => boolean;

/** Why the server ends a stream; sent in its last message, `end`. */
export type EndReason = 'ticket_expired' | 'session_revoked' | 'user_removed' | 'server_closing';

/** One open stream, as the realtime service tracks it. */
export interface OpenStream {
  readonly claims: TicketClaims;
  /** Sends `end` with `reason` and closes the stream. */
  end(reason: EndReason, message: string): void;
}

export interface EventStreamOptions {
  readonly claims: TicketClaims;
  /** The `Last-Event-ID` the client sent, checked to be digits. */
  readonly lastEventId: string | undefined;
  /** By table channel (`table:public.messages`): the ticket's filter for it, or undefined for every row. */
  readonly matchers: ReadonlyMap<string, RowMatcher | undefined>;
  readonly database: Database;
  readonly hub: EventHub;
  readonly logger: Logger;
  readonly heartbeatMs: number;
  /** The `retry:` hint, in ms. */
  readonly retryMs: number;
  /** Called once, when the stream ends for any reason. */
  readonly onClose: (stream: OpenStream) => void;
  readonly now?: () => number;
}

const pageSize = 500;
// A client that reads slower than events come: past this much unsent, its stream is closed and
// it resumes from its last id, read from the log instead of held here.
const maxQueuedBytes = 4 * 1024 * 1024;
const encoder = new TextEncoder();

// An event's message is the same for every subscriber that gets it: made once.
const frames = new WeakMap<LoggedEvent, Uint8Array>();
const frameOf = (event: LoggedEvent): Uint8Array => {
  let frame = frames.get(event);
  if (!frame) {
    frame = encoder.encode(`id: ${event.id}\nevent: ${event.type}\ndata: ${eventJson(event)}\n\n`);
    frames.set(event, frame);
  }
  return frame;
};
// A page the hub read, as one chunk: the same for every subscriber that takes all of it.
const pages = new WeakMap<readonly LoggedEvent[], Uint8Array>();
const pageOf = (events: readonly LoggedEvent[], frames: Uint8Array[]): Uint8Array => {
  let page = pages.get(events);
  if (!page) {
    page = Buffer.concat(frames);
    pages.set(events, page);
  }
  return page;
};
const leaveFrames = new WeakMap<LoggedEvent, Uint8Array>();
const leaveFrameOf = (event: LoggedEvent): Uint8Array => {
  let frame = leaveFrames.get(event);
  if (!frame) {
    const { table, key } = event.payload as { table: unknown; key: unknown };
    const leave = { id: event.id, channel: event.channel, type: 'leave', payload: { table, key }, at: event.at };
    frame = encoder.encode(`id: ${event.id}\nevent: leave\ndata: ${JSON.stringify(leave)}\n\n`);
    leaveFrames.set(event, frame);
  }
  return frame;
};

/**
 * Opens one `text/event-stream` for a ticket: `ready` first (with the cursor it continues from),
 * then the events after `Last-Event-ID` read from the log, then live events from the hub, with
 * no gap and no duplicate at the seam: the stream joins the hub before it reads the log's head,
 * holds what the hub offers while it replays, and sends only ids past the last it handled.
 * Row changes pass the ticket's filter in memory; an update that moves a row out of it sends
 * `leave` with the row's key. A heartbeat comment every `heartbeatMs`; `end` and close when the
 * ticket expires, or when the service ends the stream (a revoked session, shutdown).
 *
 * @example
 * ```ts
 * const { response } = await openEventStream({ claims, lastEventId, matchers, database, hub, logger,
 *   heartbeatMs: 15_000, retryMs: 2_000, onClose: (stream) => open.delete(stream) });
 * return response;
 * ```
 */
export async function openEventStream(
  options: EventStreamOptions,
): Promise<{ response: Response; stream: OpenStream }> {
  const { claims, database, hub, logger, matchers } = options;
  const now = options.now ?? Date.now;
  const channels = new Set(claims.channels);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  // The highest id handled (sent, or skipped by the filter): nothing at or below it is sent again.
  let position = -1n;
  // While the log is replayed, live events wait here.
  let held: LoggedEvent[] | undefined = [];
  let heartbeat: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;

  const cleanup = () => {
    if (closed) return false;
    closed = true;
    held = undefined;
    hub.remove(subscriber);
    clearInterval(heartbeat);
    clearTimeout(expiry);
    options.onClose(stream);
    return true;
  };
  const write = (bytes: Uint8Array) => {
    if (closed) return;
    controller.enqueue(bytes);
    if ((controller.desiredSize ?? 0) < -maxQueuedBytes) {
      logger.info(
        { ticket: claims.id },
        'realtime: a stream fell too far behind; closing it, the client resumes from its last id',
      );
      if (cleanup()) controller.close();
    }
  };
  // The frame `event` sends this subscriber, if any.
  const frameFor = (event: LoggedEvent): Uint8Array | undefined => {
    if (event.seq <= position) return undefined;
    position = event.seq;
    if (channels.has(event.channel)) return frameOf(event);
    if (!matchers.has(event.channel)) return undefined;
    const match = matchers.get(event.channel);
    if (!match) return frameOf(event);
    const { new: after, old: before } = event.payload as {
      new?: Record<string, unknown>;
      old?: Record<string, unknown>;
    };
    if (after && match(after)) return frameOf(event);
    // An update that takes the row out of the filter: the subscriber learns it left.
    if (event.type === 'row.update' && before && match(before)) return leaveFrameOf(event);
    if (event.type === 'row.delete' && before && match(before)) return frameOf(event);
    return undefined;
  };
  // A page of events goes out as one chunk: one write to the socket, not one per event. A
  // subscriber that gets the whole page as it is shares the page's chunk with the others.
  const deliver = (events: readonly LoggedEvent[]) => {
    const frames: Uint8Array[] = [];
    let whole = true;
    for (const event of events) {
      const frame = frameFor(event);
      if (frame) frames.push(frame);
      whole &&= frame !== undefined && frame === frameOf(event);
    }
    if (frames.length === 1) write(frames[0] as Uint8Array);
    else if (frames.length > 1) write(whole ? pageOf(events, frames) : Buffer.concat(frames));
  };
  const subscriber: HubSubscriber = {
    offer(events) {
      if (closed) return;
      if (held) held.push(...events);
      else deliver(events);
    },
  };
  const stream: OpenStream = {
    claims,
    end(reason, message) {
      if (closed) return;
      controller.enqueue(encoder.encode(`event: end\ndata: ${JSON.stringify({ reason, message })}\n\n`));
      if (cleanup()) controller.close();
    },
  };

  // The log's head is read before the answer starts, so a database that is down is answered 503
  // with Retry-After (the error goes up), not 200 and a stream that ends before `ready`.
  hub.add(subscriber);
  let state: { head: string; pruned: string } | undefined;
  try {
    [state] = await database.query<{ head: string; pruned: string }>(
      `SELECT (SELECT coalesce(max(id), 0) FROM plinth.events)::text AS head,
              (SELECT pruned_through FROM plinth.realtime_state)::text AS pruned`,
    );
  } catch (error) {
    hub.remove(subscriber);
    throw error;
  }

  const start = async () => {
    const head = BigInt(state?.head ?? '0');
    const pruned = BigInt(state?.pruned ?? '0');
    const asked = options.lastEventId === undefined ? undefined : BigInt(options.lastEventId);
    const reset =
      asked === undefined ? undefined : asked > head ? 'unknown_cursor' : asked < pruned ? 'retention' : undefined;
    const from = asked === undefined || reset ? head : asked;
    write(
      encoder.encode(
        `retry: ${options.retryMs}\nid: ${from}\nevent: ready\ndata: ${JSON.stringify({ cursor: String(from) })}\n\n`,
      ),
    );
    if (reset) {
      write(
        encoder.encode(
          `id: ${from}\nevent: reset\ndata: ${JSON.stringify({ cursor: String(from), reason: reset })}\n\n`,
        ),
      );
    }
    position = from;
    const wanted = [...channels, ...matchers.keys()];
    while (!closed && position < head) {
      const rows = await database.query(
        `SELECT ${eventColumns} FROM plinth.events
          WHERE id > $1::bigint AND id <= $2::bigint AND channel = ANY($3::text[]) ORDER BY plinth.events.id LIMIT ${pageSize}`,
        [String(position), String(head), wanted],
      );
      deliver(rows.map(eventFromRow));
      if (rows.length < pageSize) break;
    }
    position = position > head ? position : head;
    const waiting = held ?? [];
    held = undefined;
    deliver(waiting);
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
        heartbeat = setInterval(() => write(encoder.encode(': heartbeat\n\n')), options.heartbeatMs);
        expiry = setTimeout(
          () =>
            stream.end(
              'ticket_expired',
              'The realtime ticket expired. Get a new one from your server and resume from the last event id.',
            ),
          Math.max(0, claims.expiresAt - now()),
        );
        start().catch((error: unknown) => {
          logger.warn({ err: error }, 'realtime: opening a stream failed; closing it so the client reconnects');
          if (cleanup()) controller.close();
        });
      },
      cancel() {
        cleanup();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  const response = new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Proxies that buffer (nginx) would hold events back.
      'x-accel-buffering': 'no',
    },
  });
  return { response, stream };
}
