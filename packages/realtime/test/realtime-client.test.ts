import { createTransport, PermissionError, ValidationError } from '@plinth/core';
import type { RealtimeEvent } from '@plinth/protocol';
import { type Condition, createRealtimeClient, type RealtimeClient, subscribe } from '@plinth/realtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { end, event, eventFrame, frame, ready, settle, useSseServer } from './fixtures/sse-server.js';

// The server-side API against a real node:http server: tickets and broadcasts with the service
// key, and stream(), which mints its own tickets and reads the stream with subscribe().

const server = useSseServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';

afterEach(() => {
  vi.restoreAllMocks();
});

const realtime = (): RealtimeClient =>
  createRealtimeClient(createTransport({ url: server.url, publishableKey: 'pk_test', serviceKey, retry: false }));

/** The ticket the server answers a mint with, for its own stream. */
const minted = (ticket: string) => ({ ...server.ticket(ticket) });

describe('createTicket()', () => {
  it('posts what the ticket allows, with the service key, and resolves to the ticket', async () => {
    const where: Condition = {
      and: [
        { column: 'room_id', op: 'eq', value: 'r1' },
        {
          or: [{ column: 'status', op: 'eq', value: 'live' }, { not: { column: 'hidden', op: 'eq', value: true } }],
        },
      ],
    };
    const options = {
      channels: ['room:r1', 'storage:avatars'],
      tables: ['messages', 'app.rooms'],
      where,
      userId: '6f1c1f3e-6a43-4c57-9d7e-2b8c3a0d5e11',
      sessionId: '0b5e3b1c-3f0e-4b8e-9a43-1d2c3b4a5f60',
      expiresIn: 600,
    };
    const pending = realtime().createTicket(options);
    const c = await server.next();
    expect(c.request.method).toBe('POST');
    expect(c.request.url).toBe('/v1/realtime/tickets');
    expect(c.request.headers.authorization).toBe(`Bearer ${serviceKey}`);
    expect(JSON.parse(await c.body)).toEqual(options);
    c.answer(200, minted('rt_one'));
    expect(await pending).toEqual(minted('rt_one'));
  });

  it('sends an empty request when given nothing, and gives the server’s refusal as a typed error', async () => {
    const pending = realtime().createTicket();
    const c = await server.next();
    expect(JSON.parse(await c.body)).toEqual({});
    c.answer(400, {
      error: {
        code: 'validation_failed',
        message: 'channels or tables: name at least one.',
        requestId: 'r1',
        details: { field: 'channels' },
      },
    });
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'validation_failed', details: { field: 'channels' } });
  });

  it('passes hostile options to the server as they are, which refuses them', async () => {
    const pending = realtime().createTicket({ channels: 'room' as unknown as string[], expiresIn: -1 });
    const c = await server.next();
    expect(JSON.parse(await c.body)).toEqual({ channels: 'room', expiresIn: -1 });
    c.answer(400, { error: { code: 'validation_failed', message: 'channels: expected array', requestId: 'r' } });
    await expect(pending).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('broadcast()', () => {
  it('posts the channel, event and payload, and resolves to the event’s id', async () => {
    const pending = realtime().broadcast('room:r1', 'typing', { userId: 'u1', at: [1, 2] });
    const c = await server.next();
    expect(c.request.url).toBe('/v1/realtime/broadcast');
    expect(c.request.headers.authorization).toBe(`Bearer ${serviceKey}`);
    expect(JSON.parse(await c.body)).toEqual({
      channel: 'room:r1',
      event: 'typing',
      payload: { userId: 'u1', at: [1, 2] },
    });
    c.answer(200, { id: '42' });
    expect(await pending).toEqual({ id: '42' });
  });

  it('leaves the payload out when there is none, and gives a refused channel as a typed error', async () => {
    const pending = realtime().broadcast('table:public.messages', 'x');
    const c = await server.next();
    expect(JSON.parse(await c.body)).toEqual({ channel: 'table:public.messages', event: 'x' });
    c.answer(403, {
      error: { code: 'permission_denied', message: 'table: channels are the server’s.', requestId: 'r' },
    });
    await expect(pending).rejects.toBeInstanceOf(PermissionError);
  });
});

describe('stream()', () => {
  /** Takes `count` events from the iterator, then breaks out of the loop. */
  async function take(iterable: AsyncIterable<RealtimeEvent>, count: number) {
    const got: RealtimeEvent[] = [];
    for await (const e of iterable) {
      got.push(e);
      if (got.length === count) break;
    }
    return got;
  }

  it('mints a ticket, reads the stream, renews the ticket when it expires, and closes on break', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const resets: unknown[] = [];
    const reading = take(
      realtime().stream({ channels: ['room:r1'], expiresIn: 60, lastEventId: '7', onReset: (r) => resets.push(r) }),
      4,
    );

    const mint1 = await server.next();
    expect(mint1.request.url).toBe('/v1/realtime/tickets');
    // Only the ticket's own fields go to the server.
    expect(JSON.parse(await mint1.body)).toEqual({ channels: ['room:r1'], expiresIn: 60 });
    mint1.answer(200, minted('rt_one'));

    const stream1 = await server.next();
    expect(stream1.request.headers.authorization).toBe('Ticket rt_one');
    expect(stream1.request.headers['last-event-id']).toBe('7');
    stream1.open(ready('7'), eventFrame('8'), eventFrame('9'), end('ticket_expired', 'The ticket expired.'));

    const mint2 = await server.next();
    expect(mint2.request.url).toBe('/v1/realtime/tickets');
    expect(JSON.parse(await mint2.body)).toEqual({ channels: ['room:r1'], expiresIn: 60 });
    mint2.answer(200, minted('rt_two'));

    const stream2 = await server.next();
    expect(stream2.request.headers.authorization).toBe('Ticket rt_two');
    expect(stream2.request.headers['last-event-id']).toBe('9');
    // A replay of 9 at the seam, a reset, and two more.
    stream2.open(ready('9'), eventFrame('9'), frame('reset', { cursor: '20', reason: 'retention' }, '20'));
    stream2.send(eventFrame('21'), eventFrame('22'), eventFrame('23'));

    const got = await reading;
    expect(got.map((e) => e.id)).toEqual(['8', '9', '21', '22']);
    expect(got[0]).toEqual(event('8'));
    expect(resets).toEqual([{ cursor: '20' }]);
    // Breaking out of the loop closed the connection.
    await stream2.closed;
    await settle();
    expect(server.connections).toHaveLength(4);
  });

  it('throws the error that ends the stream from the loop, after the events before it', async () => {
    const iterator = realtime()
      .stream({ tables: ['orders'] })
      [Symbol.asyncIterator]();
    const first = iterator.next();
    (await server.next()).answer(200, minted('rt_one'));
    const c = await server.next();
    c.open(ready('0'), eventFrame('1'));
    expect((await first).value).toEqual(event('1'));
    c.send(end('session_revoked', 'Signed out.'));
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AuthError', details: { reason: 'session_revoked' } });
  });

  it('throws a refusal of the stream, and a refusal of the ticket, from the loop', async () => {
    const refusedStream = take(realtime().stream({ tables: ['orders'] }), 1);
    (await server.next()).answer(200, minted('rt_one'));
    (await server.next()).answer(403, { error: { code: 'permission_denied', message: 'No.', requestId: 'r' } });
    await expect(refusedStream).rejects.toBeInstanceOf(PermissionError);

    const refusedTicket = take(realtime().stream({ tables: ['nope'] }), 1);
    (await server.next()).answer(400, {
      error: { code: 'validation_failed', message: 'nope: no such table', requestId: 'r' },
    });
    await expect(refusedTicket).rejects.toBeInstanceOf(ValidationError);
    await settle();
    expect(server.connections).toHaveLength(3);
  });

  it('ends without an error when its signal is aborted, and makes no request when it already was', async () => {
    const controller = new AbortController();
    const got: RealtimeEvent[] = [];
    const reading = (async () => {
      for await (const e of realtime().stream({ channels: ['room:r1'], signal: controller.signal })) {
        got.push(e);
        if (got.length === 1) controller.abort();
      }
    })();
    (await server.next()).answer(200, minted('rt_one'));
    const c = await server.next();
    c.open(ready('0'), eventFrame('1'), eventFrame('2'));
    await reading;
    expect(got.map((e) => e.id)).toEqual(['1']);
    await c.closed;

    for await (const _ of realtime().stream({ channels: ['room:r1'], signal: AbortSignal.abort() })) {
      throw new Error('no event expected');
    }
    // An abort while the ticket is minted ends it the same way.
    const late = new AbortController();
    const minting = take(realtime().stream({ channels: ['room:r1'], signal: late.signal }), 1);
    await server.next();
    late.abort();
    expect(await minting).toEqual([]);
    await settle();
    expect(server.connections).toHaveLength(3);
  });

  it('lets two loops read at once, each with its own ticket', async () => {
    const client = realtime();
    const a = take(client.stream({ channels: ['a'] }), 2);
    const b = take(client.stream({ channels: ['b'] }), 2);
    const mints = [await server.next(), await server.next()];
    for (const m of mints) {
      const { channels } = JSON.parse(await m.body) as { channels: string[] };
      m.answer(200, minted(`rt_${channels[0]}`));
    }
    const streams = [await server.next(), await server.next()];
    for (const s of streams) {
      const mine = s.request.headers.authorization === 'Ticket rt_a' ? ['1', '2'] : ['5', '6'];
      s.open(ready('0'), ...mine.map((id) => eventFrame(id)));
    }
    expect((await a).map((e) => e.id)).toEqual(['1', '2']);
    expect((await b).map((e) => e.id)).toEqual(['5', '6']);
  });

  it('is the same subscribe as the package’s', () => {
    expect(realtime().subscribe).toBe(subscribe);
  });

  it('mints no ticket until the loop starts', async () => {
    const iterable = realtime().stream({ channels: ['room:r1'] });
    await settle();
    expect(server.connections).toHaveLength(0);
    const reading = take(iterable, 1);
    (await server.next()).answer(200, minted('rt_one'));
    (await server.next()).open(ready('0'), eventFrame('1'));
    expect((await reading).map((e) => e.id)).toEqual(['1']);
  });
});
