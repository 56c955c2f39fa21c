import { AbortError, AuthError, ConfigurationError, PermissionError, ProtocolError } from '@plinth/core';
import type { RealtimeEvent } from '@plinth/protocol';
import {
  type RealtimeStatus,
  type RealtimeSubscription,
  type RealtimeTicket,
  type SubscribeOptions,
  subscribe,
} from '@plinth/realtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { end, event, eventFrame, frame, ready, settle, until, useSseServer } from './fixtures/sse-server.js';

// subscribe() against a real node:http server (test/fixtures/sse-server.ts) over Node's own
// fetch. Math.random is pinned to 0 unless a test says otherwise: every backoff is then 0 ms
// and reconnects happen at once, without fake timers. Tests of waits use fake setTimeout.

const server = useSseServer();
// Every subscription a test starts is closed after it, whether or not it ever opened.
const controllers: AbortController[] = [];

afterEach(() => {
  for (const controller of controllers.splice(0)) controller.abort();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** What the callbacks saw, and options that record it. */
function recorder(extra: Partial<SubscribeOptions> = {}) {
  const seen = {
    events: [] as RealtimeEvent[],
    statuses: [] as RealtimeStatus[],
    errors: [] as unknown[],
    resets: [] as { cursor: string }[],
    ids: () => seen.events.map((e) => e.id),
  };
  const options: SubscribeOptions = {
    onEvent: (e) => seen.events.push(e),
    onStatus: (s) => seen.statuses.push(s),
    onError: (e) => seen.errors.push(e),
    onReset: (r) => seen.resets.push(r),
    ...extra,
  };
  return { seen, options };
}

/** Subscribes, with a signal that closes it after the test. */
function start(ticket: RealtimeTicket, options: SubscribeOptions): Promise<RealtimeSubscription> {
  const controller = new AbortController();
  controllers.push(controller);
  const pending = subscribe(ticket, { signal: controller.signal, ...options });
  // Handled here: a test that never awaits it must not see its AbortError as unhandled.
  pending.catch(() => {});
  return pending;
}

/** Whether `promise` has settled, after the microtasks queued so far. */
async function settled(promise: Promise<unknown>) {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await settle(20);
  return done;
}

const noJitter = () => vi.spyOn(Math, 'random').mockReturnValue(0);

describe('subscribe()', () => {
  it('resolves only once the first ready arrived, with the ticket in a header and no cookie', async () => {
    noJitter();
    const { seen, options } = recorder();
    const pending = start(server.ticket(), options);
    const c = await server.next();
    expect(c.request.method).toBe('GET');
    expect(c.request.url).toBe('/v1/realtime/stream');
    expect(c.request.headers.authorization).toBe('Ticket rt_first');
    expect(c.request.headers.accept).toBe('text/event-stream');
    expect(c.request.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(c.request.headers['last-event-id']).toBeUndefined();
    expect(c.request.headers.cookie).toBeUndefined();

    // Headers and a heartbeat are not enough: only `ready` opens it.
    c.open(': heartbeat\n\n');
    expect(await settled(pending)).toBe(false);
    expect(seen.statuses).toEqual(['connecting']);

    c.send(ready('41'));
    const subscription = await pending;
    expect(subscription.status).toBe('open');
    expect(subscription.lastEventId).toBe('41');
    expect(seen.statuses).toEqual(['connecting', 'open']);
    expect(seen.errors).toEqual([]);
  });

  it('sends lastEventId as Last-Event-ID on the first connection', async () => {
    const pending = start(server.ticket(), { ...recorder().options, lastEventId: '12' });
    const c = await server.next();
    expect(c.request.headers['last-event-id']).toBe('12');
    c.open(ready('12'));
    expect((await pending).lastEventId).toBe('12');
  });

  it('delivers events in order, ids compared as BigInt (not as strings or Numbers)', async () => {
    const { seen, options } = recorder();
    const pending = start(server.ticket(), options);
    const c = await server.next();
    c.open(ready('0'));
    const subscription = await pending;
    // "10" < "9" as strings; 2^53 + 1 equals 2^53 as a Number.
    c.send(eventFrame('9'), eventFrame('10'), eventFrame('11'));
    c.send(eventFrame('9007199254740992'), eventFrame('9007199254740993'));
    c.send(
      frame(
        'leave',
        event('9007199254740994', 'leave', { table: 'public.messages', key: { id: 1 } }),
        '9007199254740994',
      ),
    );
    await until(() => seen.events.length === 6, 'six events');
    expect(seen.ids()).toEqual(['9', '10', '11', '9007199254740992', '9007199254740993', '9007199254740994']);
    expect(seen.events[0]).toEqual(event('9'));
    expect(seen.events[5]?.type).toBe('leave');
    expect(subscription.lastEventId).toBe('9007199254740994');
  });

  it('drops events it already delivered: replays at a reconnect seam, and repeats', async () => {
    noJitter();
    const { seen, options } = recorder();
    const pending = start(server.ticket(), options);
    const first = await server.next();
    first.open(ready('0'), eventFrame('1'), eventFrame('2'), eventFrame('3'), eventFrame('2'));
    await pending;
    await until(() => seen.events.length === 3, 'three events');
    first.cut();

    const second = await server.next();
    expect(second.request.headers['last-event-id']).toBe('3');
    // A server that replays a little before the cursor: 2 and 3 again, then 4.
    second.open(ready('1'), eventFrame('2'), eventFrame('3'), eventFrame('4'));
    await until(() => seen.events.length === 4, 'four events');
    await settle();
    expect(seen.ids()).toEqual(['1', '2', '3', '4']);
    expect(seen.statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('reconnects after a cut mid-message with the last whole id, losing and repeating nothing', async () => {
    noJitter();
    const { seen, options } = recorder();
    const pending = start(server.ticket(), options);
    const first = await server.next();
    first.open(ready('0'), eventFrame('1'), eventFrame('2'), eventFrame('3'));
    const subscription = await pending;
    await until(() => seen.events.length === 3, 'three events');
    // Half of event 4, then the connection dies.
    first.send('event: message.sent\nid: 4\ndata: {"id":"4","chan');
    await settle(20);
    first.cut();

    const second = await server.next();
    expect(second.request.headers['last-event-id']).toBe('3');
    second.open(ready('3'), eventFrame('4'), eventFrame('5'));
    await until(() => seen.events.length === 5, 'five events');
    expect(seen.ids()).toEqual(['1', '2', '3', '4', '5']);
    expect(subscription.lastEventId).toBe('5');
    expect(seen.errors).toEqual([]);
  });

  it('reconnects when the server ends the body without an end message, or is closing', async () => {
    noJitter();
    const { seen, options } = recorder();
    const pending = start(server.ticket(), options);
    const first = await server.next();
    first.open(ready('0'), eventFrame('1'));
    await pending;
    await until(() => seen.events.length === 1, 'one event');
    first.response.end();
    const second = await server.next();
    expect(second.request.headers['last-event-id']).toBe('1');
    second.open(ready('1'), eventFrame('2'), end('server_closing', 'restarting'));
    const third = await server.next();
    expect(third.request.headers['last-event-id']).toBe('2');
    expect(third.request.headers.authorization).toBe('Ticket rt_first');
    third.open(ready('2'), eventFrame('3'));
    await until(() => seen.events.length === 3, 'three events');
    expect(seen.ids()).toEqual(['1', '2', '3']);
    expect(seen.errors).toEqual([]);
  });

  it('reconnects after a 5xx, a 408 and a 429, before and after the first ready', async () => {
    noJitter();
    const { seen, options } = recorder();
    const pending = start(server.ticket(), options);
    (await server.next()).answer(503, { error: { code: 'service_unavailable', message: 'down', requestId: 'r' } });
    (await server.next()).answer(408, {});
    (await server.next()).answer(429, { error: { code: 'rate_limited', message: 'slow', requestId: 'r' } });
    (await server.next()).answer(502, '<html>bad gateway</html>');
    (await server.next()).open(ready('0'));
    const subscription = await pending;
    expect(subscription.status).toBe('open');
    expect(seen.statuses).toEqual(['connecting', 'reconnecting', 'open']);
    // Waits the server may end: nothing to report.
    expect(seen.errors).toEqual([]);
  });

  describe('waits', () => {
    // Only setTimeout is faked: Node's fetch and the server keep their own clocks.
    const fakeTimers = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });

    /** `ms` of fake time, and real time for I/O: no new connection. */
    async function noConnectionAfter(ms: number) {
      const before = server.connections.length;
      await vi.advanceTimersByTimeAsync(ms);
      await settle(60);
      expect(server.connections).toHaveLength(before);
    }

    /**
     * `ms` of fake time, then a new connection. A wait drawn as 0 ms is still a fake timer, and
     * one set at the very end of an advance runs only on a later tick: 1 ms at a time, then.
     */
    async function connectionAfter(ms: number) {
      const before = server.connections.length;
      await vi.advanceTimersByTimeAsync(ms);
      for (let i = 0; i < 500 && server.connections.length === before; i++) {
        await settle(10);
        if (server.connections.length === before) await vi.advanceTimersByTimeAsync(1);
      }
      expect(server.connections.length).toBeGreaterThan(before);
    }

    /** Until the backoff has been drawn `n` times: its wait is then on the (fake) clock. */
    const drawn = (random: { mock: { calls: unknown[] } }, n: number) =>
      until(() => random.mock.calls.length >= n, `backoff ${n}`);

    it('back off exponentially with full jitter: growing ceilings, random within them, at most 30 s', async () => {
      fakeTimers();
      const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const { options } = recorder();
      void start(server.ticket(), options);
      // Retry n waits random * min(30 s, 1 s * 2^(n-1)): 500, 1000, 2000 ms at 0.5.
      (await server.next()).answer(503, {});
      await drawn(random, 1);
      await noConnectionAfter(499);
      await connectionAfter(1);
      (await server.next()).answer(503, {});
      await drawn(random, 2);
      await noConnectionAfter(999);
      await connectionAfter(1);
      (await server.next()).answer(503, {});
      await drawn(random, 3);
      await noConnectionAfter(1999);
      await connectionAfter(1);

      // The jitter's other end: a random of 0 comes back at once.
      random.mockReturnValue(0);
      (await server.next()).answer(503, {});
      await drawn(random, 4);
      await connectionAfter(0);

      // Many failures later the ceiling stays at 30 s: 0.999 of it.
      random.mockReturnValue(0.999);
      for (let n = 5; n <= 10; n++) {
        (await server.next()).answer(503, {});
        await drawn(random, n);
        await connectionAfter(30_000);
      }
      (await server.next()).answer(503, {});
      await drawn(random, 11);
      await noConnectionAfter(29_960);
      await connectionAfter(10);
    });

    it('honour a 429 Retry-After, and the server retry: hint as the least wait', async () => {
      fakeTimers();
      const random = noJitter();
      const { options } = recorder();
      void start(server.ticket(), options);
      (await server.next()).answer(429, {}, { 'retry-after': '7' });
      await drawn(random, 1);
      await noConnectionAfter(6999);
      await connectionAfter(1);

      // A hint of 2 s, then a hostile one, capped at 30 s.
      const c = await server.next();
      c.open('retry: 2000\n\n', ready('0'));
      await settle(60);
      c.cut();
      await drawn(random, 2);
      await noConnectionAfter(1999);
      await connectionAfter(1);
      const d = await server.next();
      d.open('retry: 999999999\n\n', ready('0'));
      await settle(60);
      d.cut();
      await drawn(random, 3);
      await noConnectionAfter(29_999);
      await connectionAfter(1);
    });

    it('treat a stream silent for idleTimeoutMs as cut; any byte, a heartbeat too, resets the watch', async () => {
      fakeTimers();
      noJitter();
      const { seen, options } = recorder();
      const pending = start(server.ticket(), options);
      const first = await server.next();
      first.open(ready('0'), eventFrame('1'));
      await pending;
      await until(() => seen.events.length === 1, 'one event');
      await vi.advanceTimersByTimeAsync(40_000);
      first.send(': heartbeat\n\n');
      await settle(100);
      // 80 s after the event, but 40 s after the heartbeat: still the first connection.
      await noConnectionAfter(40_000);
      expect(seen.statuses.at(-1)).toBe('open');
      // 45 s after the heartbeat: cut, and resumed after the last event.
      await connectionAfter(5_000);
      await first.closed;
      const second = await server.next();
      expect(second.request.headers['last-event-id']).toBe('1');
      expect(seen.statuses).toEqual(['connecting', 'open', 'reconnecting']);
    });

    it('also watch a server that never answers, with a custom idleTimeoutMs', async () => {
      fakeTimers();
      noJitter();
      const { options } = recorder({ idleTimeoutMs: 5_000 });
      void start(server.ticket(), options);
      await server.next(); // never answered
      await noConnectionAfter(4_999);
      await connectionAfter(1);
    });
  });

  describe('tickets', () => {
    it('call getTicket on end: ticket_expired, and resume with the new ticket and Last-Event-ID', async () => {
      noJitter();
      const getTicket = vi.fn(async () => server.ticket('rt_second'));
      const { seen, options } = recorder({ getTicket });
      const pending = start(server.ticket(), options);
      const first = await server.next();
      first.open(ready('0'), eventFrame('1'), end('ticket_expired', 'The ticket expired.'), eventFrame('2'));
      await pending;
      const second = await server.next();
      expect(getTicket).toHaveBeenCalledTimes(1);
      expect(second.request.headers.authorization).toBe('Ticket rt_second');
      expect(second.request.headers['last-event-id']).toBe('1');
      second.open(ready('1'), eventFrame('2'));
      await until(() => seen.events.length === 2, 'two events');
      // The event after `end` on the old stream was not read.
      expect(seen.ids()).toEqual(['1', '2']);
      expect(seen.errors).toEqual([]);
      expect(seen.statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    });

    it('renew after an end that comes with the end of the body, as the server sends it', async () => {
      noJitter();
      const getTicket = vi.fn(async () => server.ticket('rt_second'));
      const { seen, options } = recorder({ getTicket });
      const pending = start(server.ticket(), options);
      const first = await server.next();
      first.open(ready('0'), eventFrame('1'));
      await pending;
      // The `end` message and the end of the response in one go: a read after it never settles
      // in Node's fetch, so the client must not wait for one.
      first.response.end(end('ticket_expired', 'The ticket expired.'));
      const second = await server.next();
      expect(getTicket).toHaveBeenCalledTimes(1);
      expect(second.request.headers['last-event-id']).toBe('1');
      second.open(ready('1'), eventFrame('2'));
      await until(() => seen.events.length === 2, 'two events');
      expect(seen.ids()).toEqual(['1', '2']);
    });

    it('call getTicket on a 401 session_expired (a ticket already expired), then reconnect', async () => {
      noJitter();
      const getTicket = vi.fn(() => server.ticket('rt_second'));
      const { options } = recorder({ getTicket });
      const pending = start(server.ticket(), options);
      (await server.next()).answer(401, {
        error: { code: 'session_expired', message: 'The ticket expired.', requestId: 'r' },
      });
      const second = await server.next();
      expect(second.request.headers.authorization).toBe('Ticket rt_second');
      second.open(ready('0'));
      expect((await pending).status).toBe('open');
      expect(getTicket).toHaveBeenCalledTimes(1);
    });

    it('close with an AuthError that says to pass getTicket when the ticket expires without it', async () => {
      const { seen, options } = recorder();
      const pending = start(server.ticket(), options);
      const first = await server.next();
      first.open(ready('0'));
      const subscription = await pending;
      first.send(end('ticket_expired', 'The ticket expired.'));
      await until(() => subscription.status === 'closed', 'closed');
      expect(seen.statuses).toEqual(['connecting', 'open', 'closed']);
      expect(seen.errors).toHaveLength(1);
      const error = seen.errors[0] as AuthError;
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe('session_expired');
      expect(error.message).toContain('getTicket');
      await settle();
      expect(server.connections).toHaveLength(1);
    });

    it('retry a getTicket that failed for a cut, and close on one that was refused', async () => {
      noJitter();
      const getTicket = vi
        .fn<() => Promise<RealtimeTicket>>()
        .mockRejectedValueOnce(new TypeError('fetch failed'))
        .mockResolvedValueOnce(server.ticket('rt_second'));
      const { seen, options } = recorder({ getTicket });
      const pending = start(server.ticket(), options);
      (await server.next()).open(ready('0'), end('ticket_expired'));
      await pending;
      const second = await server.next();
      expect(second.request.headers.authorization).toBe('Ticket rt_second');
      expect(getTicket).toHaveBeenCalledTimes(2);
      expect(seen.errors).toEqual([new TypeError('fetch failed')]);

      // A refusal from the app's server ends it, with that error.
      const refusal = new PermissionError('not yours', { code: 'permission_denied', status: 403 });
      getTicket.mockRejectedValueOnce(refusal);
      second.open(ready('0'), end('ticket_expired'));
      await until(() => seen.statuses.at(-1) === 'closed', 'closed');
      expect(seen.errors.at(-1)).toBe(refusal);
    });

    it('refuse what getTicket returns when it is not a ticket', async () => {
      const getTicket = vi.fn(async () => ({ url: 'not a url' }) as unknown as RealtimeTicket);
      const { seen, options } = recorder({ getTicket });
      const pending = start(server.ticket(), options);
      (await server.next()).open(ready('0'), end('ticket_expired'));
      await pending;
      await until(() => seen.statuses.at(-1) === 'closed', 'closed');
      expect(seen.errors[0]).toBeInstanceOf(ConfigurationError);
      expect((seen.errors[0] as Error).message).toContain('getTicket()');
    });

    it('reject on a forged ticket (401 unauthenticated), and never retry it', async () => {
      noJitter();
      const getTicket = vi.fn(() => server.ticket('rt_second'));
      const { seen, options } = recorder({ getTicket });
      const pending = subscribe(server.ticket('rt_forged'), options);
      (await server.next()).answer(401, {
        error: { code: 'unauthenticated', message: 'The ticket is not valid.', requestId: 'r1' },
      });
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'unauthenticated', status: 401, message: 'The ticket is not valid.' });
      expect(seen.statuses).toEqual(['connecting', 'closed']);
      expect(seen.errors).toEqual([error]);
      await settle();
      expect(server.connections).toHaveLength(1);
      expect(getTicket).not.toHaveBeenCalled();
    });

    it('reject on a 403, and on a 404 from a server without realtime', async () => {
      const { options } = recorder();
      const forbidden = subscribe(server.ticket(), options);
      (await server.next()).answer(403, { error: { code: 'permission_denied', message: 'No.', requestId: 'r' } });
      await expect(forbidden).rejects.toBeInstanceOf(PermissionError);
      const missing = subscribe(server.ticket(), options);
      (await server.next()).answer(404, '<html>not here</html>');
      await expect(missing).rejects.toMatchObject({ name: 'NotFoundError', status: 404 });
    });

    it('close with an AuthError when the session is revoked or the user removed', async () => {
      for (const [reason, code] of [
        ['session_revoked', 'session_expired'],
        ['user_removed', 'unauthenticated'],
      ]) {
        const getTicket = vi.fn(() => server.ticket('rt_second'));
        const { seen, options } = recorder({ getTicket });
        const pending = start(server.ticket(), options);
        const c = await server.next();
        c.open(ready('0'));
        const subscription = await pending;
        c.send(end(reason as string, 'Signed out.'));
        await until(() => subscription.status === 'closed', 'closed');
        expect(seen.errors[0]).toBeInstanceOf(AuthError);
        expect(seen.errors[0]).toMatchObject({ code, details: { reason } });
        expect((seen.errors[0] as Error).message).toContain('Signed out.');
        expect(getTicket).not.toHaveBeenCalled();
      }
      await settle();
      expect(server.connections).toHaveLength(2);
    });
  });

  describe('reset', () => {
    it('tells onReset, then carries on from the cursor', async () => {
      noJitter();
      const { seen, options } = recorder();
      const pending = start(server.ticket(), options);
      const first = await server.next();
      first.open(ready('0'), eventFrame('1'));
      const subscription = await pending;
      await until(() => seen.events.length === 1, 'one event');
      first.cut();
      const second = await server.next();
      expect(second.request.headers['last-event-id']).toBe('1');
      // Events 2 to 49 are gone: the log starts at 50.
      second.open(ready('1'), frame('reset', { cursor: '50', reason: 'retention' }, '50'), eventFrame('51'));
      await until(() => seen.events.length === 2, 'two events');
      expect(seen.resets).toEqual([{ cursor: '50' }]);
      expect(seen.ids()).toEqual(['1', '51']);
      expect(subscription.lastEventId).toBe('51');
    });
  });

  describe('closing', () => {
    it('close() aborts the request, stops reconnecting, and nothing is called after it', async () => {
      const { seen, options } = recorder();
      const pending = subscribe(server.ticket(), options);
      const c = await server.next();
      c.open(ready('0'), eventFrame('1'));
      const subscription = await pending;
      await until(() => seen.events.length === 1, 'one event');
      subscription.close();
      expect(subscription.status).toBe('closed');
      expect(seen.statuses).toEqual(['connecting', 'open', 'closed']);
      await c.closed;
      c.send(eventFrame('2'));
      subscription.close();
      await settle();
      expect(seen.ids()).toEqual(['1']);
      expect(seen.statuses).toEqual(['connecting', 'open', 'closed']);
      expect(seen.errors).toEqual([]);
      expect(server.connections).toHaveLength(1);
    });

    it('close() from inside onEvent: nothing more, not even the rest of the same chunk', async () => {
      const { seen, options } = recorder();
      let subscription: RealtimeSubscription | undefined;
      const pending = start(server.ticket(), {
        ...options,
        onEvent: (e) => {
          seen.events.push(e);
          subscription?.close();
        },
      });
      const c = await server.next();
      c.open(ready('0'));
      subscription = await pending;
      // One write: the close comes while the parser is inside this chunk.
      c.send(`${eventFrame('1')}${eventFrame('2')}data: not json\nid: 3\n\n${end('session_revoked')}`);
      await c.closed;
      await settle();
      expect(seen.ids()).toEqual(['1']);
      expect(seen.errors).toEqual([]);
      expect(seen.statuses).toEqual(['connecting', 'open', 'closed']);
    });

    it('close() during a backoff wait ends the wait', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const { seen, options } = recorder();
      const pending = subscribe(server.ticket(), options);
      (await server.next()).open(ready('0'));
      const subscription = await pending;
      server.connections[0]?.cut();
      await until(() => subscription.status === 'reconnecting', 'reconnecting');
      subscription.close();
      await vi.advanceTimersByTimeAsync(60_000);
      await settle();
      expect(server.connections).toHaveLength(1);
      expect(seen.statuses.at(-1)).toBe('closed');
    });

    it('the signal closes it; an aborted one rejects at once with an AbortError, with no request', async () => {
      const { seen, options } = recorder();
      const controller = new AbortController();
      const pending = subscribe(server.ticket(), { ...options, signal: controller.signal });
      const c = await server.next();
      c.open(ready('0'));
      const subscription = await pending;
      controller.abort();
      expect(subscription.status).toBe('closed');
      await c.closed;
      expect(seen.statuses.at(-1)).toBe('closed');

      await expect(subscribe(server.ticket(), { ...options, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
        AbortError,
      );
      await settle();
      expect(server.connections).toHaveLength(1);
    });

    it('an abort before the first ready rejects the promise with an AbortError', async () => {
      const controller = new AbortController();
      const pending = subscribe(server.ticket(), { ...recorder().options, signal: controller.signal });
      const c = await server.next();
      controller.abort();
      await expect(pending).rejects.toBeInstanceOf(AbortError);
      await c.closed;
    });
  });

  describe('hostile answers', () => {
    it('a data: that is not JSON, an event without an id or with a bad one, a non-event: a ProtocolError each, and the stream goes on', async () => {
      const { seen, options } = recorder();
      const pending = start(server.ticket(), options);
      const c = await server.next();
      c.open(ready('0'));
      const subscription = await pending;
      c.send('event: message.sent\nid: 1\ndata: {not json\n\n');
      c.send(frame('message.sent', event('2')));
      c.send(frame('message.sent', event('3'), '3; drop table'));
      c.send(frame('message.sent', [1, 2], '4'));
      c.send(frame('message.sent', null, '5'));
      c.send('data: "no event name, a string"\nid: 6\n\n');
      c.send('bogus: field\n', eventFrame('7'));
      await until(() => seen.events.length === 1, 'one event');
      expect(seen.ids()).toEqual(['7']);
      expect(seen.errors).toHaveLength(6);
      for (const error of seen.errors) {
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error).toMatchObject({ code: 'invalid_response', requestId: c.request.headers['x-request-id'] });
      }
      expect((seen.errors[0] as Error).message).toContain('not JSON');
      expect((seen.errors[1] as Error).message).toContain('without a valid id');
      expect(subscription.status).toBe('open');
      expect(server.connections).toHaveLength(1);
    });

    it('a 200 that is not text/event-stream: a ProtocolError, and a reconnect', async () => {
      noJitter();
      const { seen, options } = recorder();
      const pending = start(server.ticket(), options);
      (await server.next()).answer(200, '<html>a login page</html>');
      const second = await server.next();
      expect(seen.errors).toHaveLength(1);
      expect(seen.errors[0]).toBeInstanceOf(ProtocolError);
      expect((seen.errors[0] as Error).message).toContain('text/html');
      second.open(ready('0'));
      expect((await pending).status).toBe('open');
    });

    it('a message that never ends past 16 MiB: a ProtocolError and a reconnect, not memory without end', async () => {
      noJitter();
      const { seen, options } = recorder();
      const pending = start(server.ticket(), options);
      const first = await server.next();
      first.open(ready('0'));
      await pending;
      const chunk = `data: ${'x'.repeat(1024 * 1024)}\n`;
      for (let i = 0; i < 17; i++) first.send(chunk);
      const second = await server.next();
      expect(second.request.headers['last-event-id']).toBe('0');
      expect(seen.errors).toHaveLength(1);
      expect((seen.errors[0] as Error).message).toContain('characters');
    }, 60_000);

    it('an onEvent, onStatus or onReset that throws goes to onError, and the stream carries on', async () => {
      const boom = new Error('app bug');
      const { seen, options } = recorder();
      const pending = start(server.ticket(), {
        ...options,
        onEvent: (e) => {
          seen.events.push(e);
          if (e.id === '1') throw boom;
        },
        onStatus: (s) => {
          seen.statuses.push(s);
          throw boom;
        },
        onReset: () => {
          throw boom;
        },
      });
      const c = await server.next();
      c.open(ready('0'), eventFrame('1'), frame('reset', { cursor: '1', reason: 'retention' }, '1'), eventFrame('2'));
      await pending;
      await until(() => seen.events.length === 2, 'two events');
      expect(seen.ids()).toEqual(['1', '2']);
      expect(seen.errors).toEqual([boom, boom, boom, boom]);
    });

    it('an onError that throws is swallowed: never an unhandled rejection', async () => {
      const { seen, options } = recorder();
      const pending = start(server.ticket(), {
        ...options,
        onError: (e) => {
          seen.errors.push(e);
          throw new Error('onError bug');
        },
      });
      const c = await server.next();
      c.open(ready('0'), 'data: nope\nid: 1\n\n', eventFrame('2'));
      await pending;
      await until(() => seen.events.length === 1, 'one event');
      expect(seen.errors).toHaveLength(1);
    });

    it('refuses what is not a ticket or options, before any request', async () => {
      const good = server.ticket();
      const onEvent = () => {};
      const cases: [unknown, unknown, string][] = [
        [undefined, { onEvent }, 'the ticket'],
        ['rt_x', { onEvent }, 'the ticket'],
        [{ ...good, ticket: 42 }, { onEvent }, 'the ticket'],
        [{ ...good, url: 'javascript:alert(1)' }, { onEvent }, 'the ticket'],
        [{ ...good, url: '/relative' }, { onEvent }, 'the ticket'],
        [good, undefined, 'options.onEvent'],
        [good, { onEvent: 'yes' }, 'options.onEvent'],
        [good, { onEvent, lastEventId: 12 }, 'options.lastEventId'],
        [good, { onEvent, lastEventId: '-1' }, 'options.lastEventId'],
        [good, { onEvent, lastEventId: '9'.repeat(41) }, 'options.lastEventId'],
        [good, { onEvent, idleTimeoutMs: 0 }, 'options.idleTimeoutMs'],
        [good, { onEvent, idleTimeoutMs: Number.NaN }, 'options.idleTimeoutMs'],
        [good, { onEvent, idleTimeoutMs: '45000' }, 'options.idleTimeoutMs'],
      ];
      for (const [ticket, options, what] of cases) {
        const error = await subscribe(ticket as RealtimeTicket, options as SubscribeOptions).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, what).toBeInstanceOf(ConfigurationError);
        expect((error as Error).message).toContain(`subscribe(): ${what} is wrong`);
        expect((error as Error).message).not.toContain('rt_x');
      }
      await settle();
      expect(server.connections).toHaveLength(0);
    });

    it('keeps concurrent subscriptions apart', async () => {
      const a = recorder();
      const b = recorder();
      const pendingA = start(server.ticket('rt_a'), a.options);
      const pendingB = start(server.ticket('rt_b'), b.options);
      const first = await server.next();
      const second = await server.next();
      const [forA, forB] = first.request.headers.authorization === 'Ticket rt_a' ? [first, second] : [second, first];
      forA.open(ready('0'), eventFrame('1'));
      forB.open(ready('5'), eventFrame('6'), eventFrame('7'));
      await Promise.all([pendingA, pendingB]);
      await until(() => a.seen.events.length === 1 && b.seen.events.length === 2, 'events');
      expect(a.seen.ids()).toEqual(['1']);
      expect(b.seen.ids()).toEqual(['6', '7']);
    });
  });
});
