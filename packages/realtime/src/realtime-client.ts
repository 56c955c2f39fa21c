import { type CallOptions, callAs, type Transport } from '@plinth/core';
import { broadcastRoute, type Condition, createTicketRoute, type RealtimeEvent } from '@plinth/protocol';
import { type RealtimeSubscription, type RealtimeTicket, type SubscribeOptions, subscribe } from './subscribe.js';

/** What a ticket lets its holder hear. */
export interface TicketOptions {
  /**
   * Broadcast channels (letters, digits and `_ - . : /`, up to 200 characters; at most 50), and
   * `storage:<bucket>` for a bucket's object events.
   */
  channels?: string[] | undefined;
  /** Published tables (`table` in `public`, or `schema.table`) whose row changes it carries; at most 50. */
  tables?: string[] | undefined;
  /**
   * Only changes whose row matches, as a `where` tree of the data API (the query builder's
   * `where({ ... })` objects are not accepted here). A row that stops matching sends a `leave`
   * event.
   *
   * @example
   * ```ts
   * // room_id = 'r1' and (status = 'live' or author = the user)
   * where: { and: [
   *   { column: 'room_id', op: 'eq', value: 'r1' },
   *   { or: [{ column: 'status', op: 'eq', value: 'live' }, { column: 'author', op: 'eq', value: user.id }] },
   * ] }
   * ```
   */
  where?: Condition | undefined;
  /** The user (UUID) it is for: the stream ends when the user is removed or disabled. */
  userId?: string | undefined;
  /** The session (UUID) it is for: the stream ends within a second of its revocation. */
  sessionId?: string | undefined;
  /** Seconds until it expires: default 600, at most a day (86 400). */
  expiresIn?: number | undefined;
}

/** Options of {@link RealtimeClient.stream}: what to hear, and from where. */
export interface StreamOptions extends TicketOptions {
  /** Resume after this event id (the `id` of the last event you handled). */
  lastEventId?: string | undefined;
  /** Ends the iteration (without an error), as breaking out of the loop does. */
  signal?: AbortSignal | undefined;
  /** As {@link SubscribeOptions.onReset}: events after your last id were pruned; refetch. */
  onReset?: SubscribeOptions['onReset'];
  /**
   * Errors the stream recovered from (a `ProtocolError`, a failed ticket renewal it will try
   * again). The error that ends the stream is thrown by the loop instead.
   */
  onError?: SubscribeOptions['onError'];
  /** As {@link SubscribeOptions.idleTimeoutMs}. */
  idleTimeoutMs?: number | undefined;
}

/** Realtime for your server: tickets for browsers, broadcasts, and a stream of its own. */
export interface RealtimeClient {
  /**
   * A signed, expiring ticket for one stream: hand it to the browser, which calls
   * `subscribe(ticket, ...)` with it and no key of its own. Needs the service key (or an API key
   * with the `realtime` scope).
   *
   * @example
   * ```ts
   * app.post('/api/realtime-ticket', async (request) => {
   *   const { user, session } = await currentSession(request);
   *   const ticket = await plinth.realtime.createTicket({
   *     tables: ['messages'],
   *     where: { column: 'room_id', op: 'eq', value: 'r1' },
   *     channels: ['room:r1'],
   *     userId: user.id,
   *     sessionId: session.id,
   *     expiresIn: 600,
   *   });
   *   return Response.json(ticket); // { ticket, url, expiresAt }
   * });
   * ```
   */
  createTicket(options?: TicketOptions, callOptions?: CallOptions): Promise<RealtimeTicket>;
  /**
   * Writes an event on a channel to the durable log; every stream whose ticket names the
   * channel gets it. Resolves to its id in the log. Needs the service key (or the `realtime`
   * scope). Channels that start with `table:` or `storage:` are the server's own.
   *
   * @example
   * ```ts
   * const { id } = await plinth.realtime.broadcast('room:r1', 'typing', { userId: user.id });
   * ```
   */
  broadcast(channel: string, event: string, payload?: unknown, callOptions?: CallOptions): Promise<{ id: string }>;
  /**
   * The events of the log for your server, as an async iterable: it mints its own ticket (and a
   * new one when that expires), and resumes after a cut as `subscribe` does, in order, with no
   * gap and no event twice. Breaking out of the loop, or `signal`, closes it; an error that ends
   * it (the server refusing the ticket) is thrown by the loop. Events wait in memory until the
   * loop takes them. Needs the service key (or the `realtime` scope).
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * for await (const event of plinth.realtime.stream({ tables: ['orders'], signal: controller.signal })) {
   *   await notifyWarehouse(event);
   *   await saveCursor(event.id); // pass it back as lastEventId after a restart
   * }
   * ```
   */
  stream(options?: StreamOptions): AsyncIterable<RealtimeEvent>;
  /** {@link subscribe}, for a browser: needs no key, only the ticket. */
  subscribe: typeof subscribe;
}

/** The events of one subscription, one at a time, as the loop asks for them. */
async function* streamEvents(
  mint: () => Promise<RealtimeTicket>,
  { lastEventId, signal, onReset, onError, idleTimeoutMs }: StreamOptions,
): AsyncGenerator<RealtimeEvent, void, undefined> {
  const queue: RealtimeEvent[] = [];
  let wake = () => {};
  let closed = false;
  let failure: { error: unknown } | undefined;
  let subscription: RealtimeSubscription | undefined;
  try {
    if (signal?.aborted) return;
    try {
      subscription = await subscribe(await mint(), {
        onEvent: (event) => {
          queue.push(event);
          wake();
        },
        onStatus: (status) => {
          if (status !== 'closed') return;
          closed = true;
          wake();
        },
        // After onStatus('closed'), the error is the one that ended the stream.
        onError: (error) => {
          if (closed) failure = { error };
          else onError?.(error);
        },
        onReset,
        getTicket: mint,
        lastEventId,
        signal,
        idleTimeoutMs,
      });
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
    for (;;) {
      if (signal?.aborted) return;
      const event = queue.shift();
      if (event) yield event;
      else if (failure) throw failure.error;
      else if (closed) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    subscription?.close();
  }
}

/**
 * Realtime over a transport with the service key: tickets for browsers, broadcasts, and
 * `stream()` for your server's own consumers. `createTicket`, `broadcast` and `stream` throw
 * `MissingServiceKeyError` synchronously, before any request, on a transport without the
 * service key (or an API key with the `realtime` scope): they belong on your server.
 * `subscribe` needs no key: it is the browser's half, with the ticket your server made.
 *
 * @example
 * ```ts
 * import { createTransport } from '@plinth/core';
 * import { createRealtimeClient } from '@plinth/realtime';
 *
 * const realtime = createRealtimeClient(createTransport({ url, serviceKey: process.env.PLINTH_SERVICE_KEY }));
 * const ticket = await realtime.createTicket({ channels: ['room:r1'], userId: user.id });
 * return Response.json(ticket); // to the browser, which calls subscribe(ticket, { onEvent })
 * ```
 */
export function createRealtimeClient(transport: Transport): RealtimeClient {
  const createTicket: RealtimeClient['createTicket'] = (options, callOptions) =>
    callAs(transport, createTicketRoute, 'realtime.createTicket()', { ...options }, callOptions);
  return {
    createTicket,

    broadcast: (channel, event, payload, callOptions) =>
      callAs(transport, broadcastRoute, 'realtime.broadcast()', { channel, event, payload }, callOptions),

    stream(options = {}) {
      transport.assertCallable(createTicketRoute, 'realtime.stream()');
      const { channels, tables, where, userId, sessionId, expiresIn, signal } = options;
      // Only the ticket's own fields: the stream's options are not the server's business.
      const ticketOptions = { channels, tables, where, userId, sessionId, expiresIn };
      return streamEvents(
        () =>
          callAs(transport, createTicketRoute, 'realtime.stream()', ticketOptions, {
            signal,
          }),
        options,
      );
    },

    subscribe,
  };
}
