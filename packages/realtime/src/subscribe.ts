import {
  AbortError,
  AuthError,
  backoffDelay,
  ConfigurationError,
  errorFromResponse,
  isPlinthError,
  type PlinthError,
  ProtocolError,
  parseRetryAfter,
  randomId,
  resolveRetryPolicy,
} from '@plinth/core';
import {
  type createTicketRoute,
  type RealtimeEvent,
  type RouteOutput,
  ticketScheme,
  wireHeaders,
} from '@plinth/protocol';
import { createParser } from 'eventsource-parser';

/** A ticket as `createTicket()` answers it: all a browser needs to subscribe. */
export type RealtimeTicket = RouteOutput<typeof createTicketRoute>;

/**
 * Where a subscription is: `connecting` until the server's first `ready`, `open` while events
 * flow, `reconnecting` after a cut (or while a new ticket is fetched), `closed` for good.
 */
export type RealtimeStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Options of {@link subscribe}. */
export interface SubscribeOptions {
  /**
   * Each event once, in the log's order: row changes, storage events, broadcasts, and `leave`
   * (a row that stopped matching the ticket's filter). What it throws goes to `onError`, and the
   * stream carries on.
   */
  onEvent: (event: RealtimeEvent) => void;
  /**
   * The status, each time it changes, from `connecting` on. `closed` comes last: only the error
   * that closed the stream, if any, is told after it.
   */
  onStatus?: ((status: RealtimeStatus) => void) | undefined;
  /**
   * What went wrong: a `ProtocolError` for an answer that is not what the contract says (the
   * stream carries on or reconnects), what a callback threw (as it was thrown), an error from
   * `getTicket` that a retry may cure, and the error that closed the stream (after
   * `onStatus('closed')`): an `AuthError` or `PermissionError` the ticket earned, or the
   * server's refusal.
   */
  onError?: ((error: unknown) => void) | undefined;
  /**
   * The events after your last id are gone from the server's log (retention): refetch what you
   * show, then the stream carries on from `cursor`. Without it, the gap goes unnoticed.
   */
  onReset?: ((reset: { cursor: string }) => void) | undefined;
  /**
   * A fresh ticket when this one expires (ask your server again). Without it, an expired ticket
   * closes the stream with an `AuthError` (`session_expired`).
   */
  getTicket?: (() => Promise<RealtimeTicket> | RealtimeTicket) | undefined;
  /** Resume after this event id (one you kept from `subscription.lastEventId`). */
  lastEventId?: string | undefined;
  /** Closes the subscription, as `close()` does. */
  signal?: AbortSignal | undefined;
  /**
   * How long the stream may be silent before it counts as cut and is reconnected, in ms. Default
   * 45 000: the server sends a heartbeat every 15 s.
   */
  idleTimeoutMs?: number | undefined;
}

/** A live subscription. */
export interface RealtimeSubscription {
  /** Stops the stream for good; no callback is called after it. */
  close(): void;
  readonly status: RealtimeStatus;
  /** The id the stream would resume after: keep it to pass as `lastEventId` later. */
  readonly lastEventId: string | undefined;
}

// What a connection ended with: reconnect after a wait of at least the ms given, renew the
// ticket (the error is what closes the stream when there is no getTicket), or close.
type Outcome = [kind: 'retry', atLeast: number] | [kind: 'renew', error: PlinthError] | [kind: 'final', error: unknown];

// The longest wait between two tries; the server's `retry:` is capped to it, and only a
// Retry-After may ask for more, up to five minutes.
const longestWait = 30_000;
// A message larger than this (in characters) is refused rather than buffered without end.
const largestMessage = 16 * 1024 * 1024;
const policy = /* @__PURE__ */ resolveRetryPolicy({ baseDelay: 1000, maxDelay: longestWait });

// Ids are decimal strings of a growing bigint, compared as BigInt: as strings "9" > "10", and
// as Numbers they lose precision past 2^53.
const isId = (id: unknown): id is string => typeof id === 'string' && /^\d{1,40}$/.test(id);

/** Answers a moment later may change: the server failed, timed out, or asked to slow down. */
const passing = (status = 0) => status >= 500 || status === 408 || status === 429;

/** The ticket, or a ConfigurationError saying what to pass (never echoing the ticket). */
function checkTicket(ticket: unknown, from: string): RealtimeTicket {
  const { ticket: value, url } = (ticket ?? {}) as Partial<RealtimeTicket>;
  if (typeof value !== 'string' || !value || !/^https?:\/\//i.test(String(url))) throw misuse(from);
  return ticket as RealtimeTicket;
}

const misuse = (what: string) =>
  new ConfigurationError(
    `subscribe(): ${what} is wrong. Pass the ticket realtime.createTicket() gave your server, as it is, and options with an onEvent function (lastEventId: a subscription's; idleTimeoutMs: 1000 to 600000).`,
    { code: 'invalid_configuration' },
  );

/**
 * Subscribes to the events a ticket may hear, over Server-Sent Events (`fetch`, so the ticket
 * goes in a header, never in the URL). Needs no key: the ticket your server minted with
 * `realtime.createTicket()` is the permission, so this is the browser's half of realtime.
 *
 * Resolves once the server's first `ready` arrived: a change committed after that is delivered.
 * Events come in the log's order, each once: after a cut (no answer, a 5xx, 408 or 429, a
 * stream gone silent for `idleTimeoutMs`) it reconnects with `Last-Event-ID` after a random wait
 * that doubles each time up to 30 s (at least the server's `retry:` hint, or a 429's
 * `Retry-After`), for as long as it is not closed, and drops any event it already delivered.
 * When the ticket expires it calls `getTicket` and resumes with the new one. An expired ticket
 * without `getTicket`, a revoked session, a removed user, a forged ticket (401) or a refusal
 * (403) close it: `onStatus('closed')`, then `onError` with the error; before the first `ready`,
 * the returned promise rejects with it too. The server's CORS list must name the page's origin.
 *
 * @example
 * ```ts
 * import { subscribe } from '@plinth/realtime';
 *
 * const getTicket = () => fetch('/api/realtime-ticket', { method: 'POST' }).then((r) => r.json());
 * const subscription = await subscribe(await getTicket(), {
 *   onEvent: (event) => {
 *     if (event.type === 'row.insert') addMessage((event.payload as { new: Message }).new);
 *   },
 *   onReset: () => reloadMessages(), // events were pruned while away: refetch
 *   onStatus: (status) => (banner.hidden = status === 'open'),
 *   getTicket,
 * });
 * // later
 * subscription.close();
 * ```
 */
export async function subscribe(ticket: RealtimeTicket, options: SubscribeOptions): Promise<RealtimeSubscription> {
  const { onEvent, onStatus, onError, onReset, getTicket, signal, idleTimeoutMs = 45_000 } = options ?? {};
  let current = checkTicket(ticket, 'the ticket');
  let last = options?.lastEventId;
  if (typeof onEvent !== 'function') throw misuse('options.onEvent');
  if (last !== undefined && !isId(last)) throw misuse('options.lastEventId');
  if (typeof idleTimeoutMs !== 'number' || !(idleTimeoutMs >= 1000 && idleTimeoutMs <= 600_000)) {
    throw misuse('options.idleTimeoutMs');
  }

  let status: RealtimeStatus = 'connecting';
  let closed = false;
  let connection: AbortController | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let sleep: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  // The server's `retry:`: the least wait before a reconnect.
  let hint = 0;
  // Tries since the last `ready`: the backoff's exponent.
  let failures = 0;
  let opened: (subscription: RealtimeSubscription) => void = () => {};
  let refused: (error: unknown) => void = () => {};

  // A callback of the app's (nothing at all once closed): what it throws goes to onError, and
  // never stops the stream.
  const tell = <T>(callback: ((value: T) => void) | undefined, value: T, always?: boolean) => {
    try {
      if (always || !closed) callback?.(value);
    } catch (error) {
      if (callback !== onError) tell(onError, error, always);
    }
  };
  const setStatus = (next: RealtimeStatus, always?: boolean) => {
    if (status === next) return;
    status = next;
    tell(onStatus, next, always);
  };

  /** Closes for good: with the error that ended it, or (close(), the signal) none. */
  const end = (error?: unknown) => {
    if (closed) return;
    closed = true;
    clearTimeout(idle);
    clearTimeout(sleep);
    connection?.abort();
    wake?.();
    signal?.removeEventListener('abort', close);
    setStatus('closed', true);
    if (error !== undefined) tell(onError, error, true);
    // A no-op once the promise resolved.
    refused(error ?? new AbortError('subscribe() was closed before the stream opened.', { code: 'aborted' }));
  };
  function close() {
    end();
  }
  const subscription: RealtimeSubscription = {
    close,
    get status() {
      return status;
    },
    get lastEventId() {
      return last;
    },
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      sleep = setTimeout(resolve, ms);
    });

  /** One connection, read until it ends; what to do next. */
  async function connect(): Promise<Outcome> {
    const controller = new AbortController();
    connection = controller;
    const requestId = randomId();
    const headers: Record<string, string> = {
      [wireHeaders.authorization]: `${ticketScheme} ${current.ticket}`,
      accept: 'text/event-stream',
      [wireHeaders.requestId]: requestId,
    };
    if (last !== undefined) headers[wireHeaders.lastEventId] = last;
    let outcome: Outcome = ['retry', 0];
    // Silence for idleTimeoutMs, waiting for the answer or within the body, is a cut.
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), idleTimeoutMs);
    };
    /** A message that breaks the contract: told, and skipped. */
    const refuse = (what: string) =>
      tell(
        onError,
        new ProtocolError(
          // The URL carries nothing secret: the ticket goes in a header.
          `The realtime stream at ${current.url} sent ${what}: is ticket.url as createTicket() gave it?`,
          { code: 'invalid_response', requestId },
        ),
      );

    watch();
    try {
      const response = await fetch(current.url, {
        headers,
        // The ticket is the credential: a user's cookies must not go with it.
        credentials: 'omit',
        signal: controller.signal,
      });
      const { status, headers: answer, body: stream } = response;
      if (!response.ok) {
        const text = await response.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // a proxy's page
        }
        const after = answer.get(wireHeaders.retryAfter);
        const error = errorFromResponse(status, body, after, requestId);
        if (passing(status)) return ['retry', Math.min(parseRetryAfter(after) ?? 0, 300_000)];
        return status === 401 && error.code === 'session_expired' ? ['renew', error] : ['final', error];
      }
      const type = answer.get('content-type');
      if (!/^text\/event-stream\b/i.test(String(type)) || !stream) {
        refuse(`a ${status} answer of ${type}, not text/event-stream`);
        return outcome;
      }

      const parser = createParser({
        maxBufferSize: largestMessage,
        onRetry: (ms) => {
          hint = Math.min(ms, longestWait);
        },
        onError: (error) => {
          // Unknown fields are ignored, as EventSource does; a message without end is a cut.
          if (error.type === 'max-buffer-size-exceeded') {
            refuse(`a message over ${largestMessage} characters`);
            controller.abort();
          }
        },
        onEvent: ({ id, event = 'message', data }) => {
          // The rest of a chunk after an `end` (or a close) is not read.
          if (closed || controller.signal.aborted) return;
          let body: Record<string, unknown> | null;
          try {
            body = JSON.parse(data);
          } catch {
            return refuse(`"${event}" data that is not JSON`);
          }
          if (event === 'end') {
            const reason = body?.reason;
            const details = { reason };
            // Any other reason, server_closing included, is a cut: reconnect with the same ticket.
            if (reason === 'ticket_expired') {
              outcome = [
                'renew',
                new AuthError(
                  'The realtime ticket expired. Pass getTicket to subscribe() to get a new one from your server: the stream then resumes after the last event.',
                  { code: 'session_expired', requestId, details },
                ),
              ];
            } else if (reason === 'session_revoked' || reason === 'user_removed') {
              outcome = [
                'final',
                new AuthError(
                  `The realtime stream ended (${reason}: ${String(body?.message)}). Sign the user in again, then subscribe with a new ticket.`,
                  { code: reason === 'user_removed' ? 'unauthenticated' : 'session_expired', requestId, details },
                ),
              ];
            }
            return controller.abort();
          }
          if (!isId(id)) return refuse(`a "${event}" without a valid id`);
          if (event === 'ready') {
            // Keep the larger: a cursor behind the last event delivered would repeat events.
            if (last === undefined || BigInt(id) > BigInt(last)) last = id;
            failures = 0;
            setStatus('open');
            return opened(subscription);
          }
          if (event === 'reset') {
            // Events were pruned: the stream goes on from the oldest it has, gap and all.
            const cursor = isId(body?.cursor) ? (body?.cursor as string) : id;
            last = cursor;
            return tell(onReset, { cursor });
          }
          if (typeof body?.channel !== 'string' || typeof body.type !== 'string') {
            return refuse(`a "${event}" that is not an event`);
          }
          // Already delivered: the overlap of a reconnect.
          if (last !== undefined && BigInt(id) <= BigInt(last)) return;
          last = id;
          tell(onEvent, body as unknown as RealtimeEvent);
        },
      });
      const reader = stream.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done || controller.signal.aborted) break;
        watch();
        parser.feed(decoder.decode(value, { stream: true }));
        // An `end` handled in this chunk aborted the request: in Node, a read after the abort of
        // a body that already finished never settles, so stop here rather than wait on it.
        if (controller.signal.aborted) break;
      }
    } catch {
      // No answer, a cut, the watchdog, an end message or close(): the outcome says which.
    } finally {
      clearTimeout(idle);
      controller.abort();
    }
    return outcome;
  }

  async function run() {
    // Set after an expired ticket: get a new one before the next connection.
    let renew: PlinthError | undefined;
    for (;;) {
      if (closed) return;
      if (renew && getTicket) {
        try {
          current = checkTicket(await getTicket(), 'what getTicket() returned');
          renew = undefined;
        } catch (error) {
          if (closed) return;
          // A cut or a busy server may pass; a refusal or a bad ticket will not.
          if (error instanceof ConfigurationError || (isPlinthError(error) && error.status && !passing(error.status))) {
            return end(error);
          }
          tell(onError, error);
          await pause(Math.max(backoffDelay(policy, ++failures), hint));
          continue;
        }
      }
      if (closed) return;
      const [kind, detail] = await connect();
      if (closed) return;
      // An expired ticket with no way to renew it is as final as a refusal.
      if (kind === 'final' || (kind === 'renew' && !getTicket)) return end(detail);
      setStatus('reconnecting');
      failures++;
      // A ticket that expired on an open stream is renewed at once; a renewal that does not
      // open waits like any other failure.
      if (kind === 'renew') renew = detail;
      if (kind === 'retry' || failures > 1) {
        await pause(Math.max(backoffDelay(policy, failures), hint, kind === 'retry' ? detail : 0));
      }
    }
  }

  return new Promise((resolve, reject) => {
    opened = resolve;
    refused = reject;
    if (signal?.aborted) return end();
    signal?.addEventListener('abort', close, { once: true });
    tell(onStatus, status);
    // Never an unhandled rejection: whatever escapes closes the subscription with it.
    run().catch(end);
  });
}
