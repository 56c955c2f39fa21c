import type { Logger } from 'pino';
import type { Database } from '../database/database.js';
import { eventColumns, eventFromRow, eventsChannel, type LoggedEvent } from '../events/event-log.js';

/** One reader of the log's new events on this instance. */
export interface HubSubscriber {
  /**
   * Called with each page of events the hub reads, in id order, every event once. Must not throw
   * or block. A page at a time, so that a stream writes a page as one chunk.
   */
  offer(events: readonly LoggedEvent[]): void;
}

/** This instance's reader of the event log. */
export interface EventHub {
  /** Adds a subscriber: every event read from now on is offered to it. */
  add(subscriber: HubSubscriber): void;
  remove(subscriber: HubSubscriber): void;
  /** How many subscribers are attached. */
  readonly size: number;
  /** Reads what is new now (also done on every NOTIFY and, while anyone listens, every `pollMs`). */
  pump(): Promise<void>;
  close(): Promise<void>;
}

// Rows read per query: a burst of writes is read in pages, never all at once.
const pageSize = 500;

/**
 * Reads new events of the durable log once for the whole instance and hands each to every
 * subscriber: the database is read per batch of events, never per subscriber. A `NOTIFY` on
 * `plinth_events` (one per committed transaction that wrote events, from any instance) wakes it;
 * a poll every `pollMs` while anyone listens covers notifications lost while the listening
 * connection was down. Because writers commit in id order (schema/011-realtime.sql), reading
 * `id > cursor` never skips an event.
 *
 * @example
 * ```ts
 * const hub = await createEventHub({ database, logger });
 * hub.add({ offer: (events) => console.log(events.map((event) => event.id)) });
 * ```
 */
export async function createEventHub({
  database,
  logger,
  pollMs = 1000,
}: {
  database: Database;
  logger: Logger;
  pollMs?: number;
}): Promise<EventHub> {
  const subscribers = new Set<HubSubscriber>();
  const [head] = await database.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM plinth.events');
  let cursor = head?.id ?? '0';
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const readNew = async () => {
    do {
      again = false;
      for (;;) {
        const rows = await database.query(
          `SELECT ${eventColumns} FROM plinth.events WHERE id > $1::bigint ORDER BY plinth.events.id LIMIT ${pageSize}`,
          [cursor],
        );
        const events = rows.map(eventFromRow);
        const last = events.at(-1);
        if (last) {
          cursor = last.id;
          for (const subscriber of subscribers) subscriber.offer(events);
        }
        if (rows.length < pageSize) break;
      }
    } while (again && !closed);
  };
  // One read at a time; a wake-up during a read runs one more after it.
  const pump = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = readNew()
      .catch((error: unknown) => {
        // The next wake-up or poll reads from the same cursor: nothing is skipped.
        logger.warn({ err: error }, 'realtime: reading new events failed; trying again at the next wake-up');
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const stopListening = await database.listen(
    eventsChannel,
    () => void pump(),
    () => void pump(),
  );
  const poll = setInterval(() => {
    if (subscribers.size > 0) void pump();
  }, pollMs);
  poll.unref();

  return {
    add: (subscriber) => subscribers.add(subscriber),
    remove: (subscriber) => subscribers.delete(subscriber),
    get size() {
      return subscribers.size;
    },
    pump,
    async close() {
      closed = true;
      clearInterval(poll);
      subscribers.clear();
      await stopListening();
      await running;
    },
  };
}
