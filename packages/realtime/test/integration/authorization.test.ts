// What a ticket allows, enforced end to end through the SDK: its row filter (and `leave` when a
// row moves out of it), its expiry, the session it was minted for, its signature, and the
// per-user cap on open streams. Every refusal reaches the app as a typed error.
import { AuthError, ConfigurationError } from '@plinth/core';
import { adminRevokeSessionRoute } from '@plinth/protocol';
import type { RealtimeTicket } from '@plinth/realtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageRow } from '../fixtures/messages-schema.js';
import { useRealtimeServer } from '../fixtures/realtime-server.js';
import { recording, subscribed } from '../fixtures/subscription-recorder.js';

const maxStreamsPerUser = 2;
const { server, plinth } = useRealtimeServer({ realtimeMaxStreamsPerUser: maxStreamsPerUser });

afterEach(() => {
  vi.restoreAllMocks();
});

const sql = <T>(text: string, params: unknown[] = []) => server().services.database.query<T>(text, params);

/** A user and a live session, made in the database as the auth flows would leave them. */
async function userWithSession(label: string) {
  const [user] = await sql<{ id: string }>('INSERT INTO plinth.users (email) VALUES ($1) RETURNING id::text AS id', [
    `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`,
  ]);
  const userId = (user as { id: string }).id;
  const [session] = await sql<{ id: string }>(
    "INSERT INTO plinth.sessions (user_id, not_after) VALUES ($1, now() + interval '1 day') RETURNING id::text AS id",
    [userId],
  );
  return { userId, sessionId: (session as { id: string }).id };
}

/** The stream requests subscribe() makes (it reads the stream with the global fetch), and their answers. */
function watchStreamRequests() {
  const answers: { status: number; retryAfter: string | null }[] = [];
  const real = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const response = await real(input, init);
    if (String(input).includes('/v1/realtime/stream')) {
      answers.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
    }
    return response;
  });
  return answers;
}

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('a ticket with a row filter', () => {
  it('never receives a row of another room, receives every row of its own, and gets leave when one moves out', async () => {
    const client = plinth();
    const seen = recording();
    await subscribed(
      await client.realtime.createTicket({
        tables: ['messages'],
        where: { column: 'room_id', op: 'eq', value: 1 },
      }),
      seen.options(),
    );
    const inserted = (await client
      .from('messages')
      .insert(Array.from({ length: 200 }, (_, n) => ({ room_id: n % 2 === 0 ? 1 : 2, body: `n${n}`, secret: `s${n}` })))
      .returning('id, room_id, body')) as MessageRow[];
    // Some one row at a time too: a change per transaction, interleaved across rooms.
    for (let n = 0; n < 20; n++) {
      inserted.push(
        ...((await client
          .from('messages')
          .insert({ room_id: (n % 2) + 1, body: `single ${n}` })
          .returning('id, room_id, body')) as MessageRow[]),
      );
    }
    const roomOne = inserted.filter((row) => row.room_id === 1);
    expect(roomOne).toHaveLength(110);
    // Written last: everything written before it (room 2's rows included) has been sent by then.
    const [sentinel] = (await client
      .from('messages')
      .insert({ room_id: 1, body: 'last' })
      .returning('id, room_id, body')) as MessageRow[];
    await seen.until(() => seen.events.some((event) => keyOf(event) === sentinel?.id), 'the last row');

    const rows = seen.events.map((event) => (event.payload as { new: MessageRow }).new);
    expect(seen.events.every((event) => event.type === 'row.insert')).toBe(true);
    expect(rows.filter((row) => row.room_id !== 1)).toEqual([]);
    expect(rows).toEqual([...roomOne, sentinel]);
    // The excluded column never travels.
    expect(JSON.stringify(seen.events)).not.toContain('secret');

    const moved = roomOne[3] as MessageRow;
    await client.from('messages').update({ room_id: 2 }).where({ id: moved.id });
    // Its later changes are no longer this ticket's: only the leave arrives, then the next room-1 row.
    await client.from('messages').update({ body: 'edited in room 2' }).where({ id: moved.id });
    const [after] = (await client
      .from('messages')
      .insert({ room_id: 1, body: 'after' })
      .returning('id, room_id, body')) as MessageRow[];
    await seen.until(() => seen.events.some((event) => keyOf(event) === after?.id), 'the row after the move');
    expect(seen.events.slice(rows.length).map((event) => [event.type, event.payload])).toEqual([
      ['leave', { table: 'public.messages', key: { id: moved.id } }],
      ['row.insert', { table: 'public.messages', key: { id: after?.id }, new: after }],
    ]);
    expect(seen.errors).toEqual([]);
  });
});

const keyOf = (event: { payload: unknown }) => (event.payload as { key?: { id?: number } }).key?.id;

describe('an expired ticket, without getTicket', () => {
  it('is refused at subscribe(): the promise rejects with AuthError session_expired, naming getTicket', async () => {
    const ticket = await plinth().realtime.createTicket({ channels: ['expired'], expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, Date.parse(ticket.expiresAt) - Date.now() + 50));
    const seen = recording();
    const error = await rejection(subscribed(ticket, seen.options()));
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'session_expired', status: 401 });
    expect((error as Error).message).toContain('getTicket');
    expect(seen.statuses).toEqual(['connecting', 'closed']);
  });

  it('ends an open subscription when it expires: closed, then AuthError session_expired', async () => {
    const channel = 'expiring';
    const client = plinth();
    const seen = recording();
    const subscription = await subscribed(
      await client.realtime.createTicket({ channels: [channel], expiresIn: 1 }),
      seen.options(),
    );
    const { id } = await client.realtime.broadcast(channel, 'before', {});
    await seen.until(() => seen.events.length === 1, 'the broadcast before the expiry');
    await seen.until(() => subscription.status === 'closed', 'the subscription to close', 10_000);
    const error = await seen.closed;
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'session_expired', details: { reason: 'ticket_expired' } });
    expect((error as Error).message).toContain('getTicket');
    expect(seen.statuses).toEqual(['connecting', 'open', 'closed']);
    expect(seen.ids()).toEqual([id]);
  });
});

describe('a ticket minted for a session', () => {
  it('ends the subscription within a second of the session being revoked', async () => {
    const { userId, sessionId } = await userWithSession('revoked');
    const client = plinth();
    const channel = `session:${sessionId}`;
    const ticket = await client.realtime.createTicket({ channels: [channel], sessionId });
    const seen = recording();
    const subscription = await subscribed(ticket, seen.options());
    await client.realtime.broadcast(channel, 'before', {});
    await seen.until(() => seen.events.length === 1, 'the broadcast before the revocation');

    await client.transport.call(adminRevokeSessionRoute, { userId, id: sessionId });
    // The bound the feature promises, as a deadline on the wait.
    await seen.until(() => subscription.status === 'closed', 'the end after the revocation', 1000);
    const error = await seen.closed;
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'session_expired', details: { reason: 'session_revoked' } });
    expect(seen.events).toHaveLength(1);

    // The same ticket is refused from then on.
    const again = await rejection(subscribed(ticket, recording().options()));
    expect(again).toBeInstanceOf(AuthError);
    expect(again).toMatchObject({ code: 'session_expired', status: 401 });
  });
});

describe('a forged or changed ticket', () => {
  it('is refused: subscribe() rejects with a 401 AuthError, after one request and no retry', async () => {
    const good = await plinth().realtime.createTicket({ channels: ['forged'] });
    const [body, signature] = good.ticket.split('.') as [string, string];
    const flip = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
    const claims = JSON.parse(Buffer.from(body.slice(3), 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, c: ['forged', 'someone-else'] })).toString('base64url');
    const cases: [string, string][] = [
      ['made up', 'tk_abc.def'],
      ['a character of the claims changed', `${flip(body, body.length - 2)}.${signature}`],
      ['other claims under the same signature', `tk_${widened}.${signature}`],
      ['a changed signature', `${body}.${flip(signature, 5)}`],
      ['cut short', good.ticket.slice(0, -5)],
      ['without its signature', body],
      ['over 8 KiB', `tk_${'x'.repeat(9000)}.${signature}`],
      ['another kind of key', `sk_${'x'.repeat(40)}`],
    ];
    for (const [what, ticket] of cases) {
      const answers = watchStreamRequests();
      const seen = recording();
      const error = await rejection(subscribed({ ...good, ticket }, seen.options()));
      expect(error, what).toBeInstanceOf(AuthError);
      expect(error, what).toMatchObject({ status: 401, code: 'unauthenticated' });
      expect(answers, what).toEqual([{ status: 401, retryAfter: null }]);
      expect(seen.statuses, what).toEqual(['connecting', 'closed']);
      vi.restoreAllMocks();
    }
  });

  it.each([
    ['no ticket', undefined],
    ['a ticket that is not a string', { ticket: 42, url: 'http://127.0.0.1:1/v1/realtime/stream', expiresAt: '' }],
    ['an empty ticket', { ticket: '', url: 'http://127.0.0.1:1/v1/realtime/stream', expiresAt: '' }],
    ['a URL that is not http(s)', { ticket: 'tk_a.b', url: 'file:///etc/passwd', expiresAt: '' }],
  ])('is a ConfigurationError before any request: %s', async (_, ticket) => {
    const answers = watchStreamRequests();
    const error = await rejection(subscribed(ticket as unknown as RealtimeTicket, recording().options()));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(answers).toEqual([]);
  });
});

describe('the per-user cap on open streams', () => {
  it(`holds at ${maxStreamsPerUser} (429 for one more), and the waiting subscription opens once one closes`, async () => {
    const { userId } = await userWithSession('capped');
    const client = plinth();
    const channel = `capped:${userId}`;
    const ticket = () => client.realtime.createTicket({ channels: [channel], userId });
    const first = await subscribed(await ticket(), recording().options());
    await subscribed(await ticket(), recording().options());
    const open = server().services.realtime.openStreams;

    const answers = watchStreamRequests();
    const third = recording();
    const pending = subscribed(await ticket(), third.options());
    await third.until(() => third.statuses.includes('reconnecting'), 'the answer to a third stream');
    expect(answers[0]).toEqual({ status: 429, retryAfter: '1' });
    // Refused and waiting to try again, not closed: the cap is a wait, not an error.
    expect(third.statuses).toEqual(['connecting', 'reconnecting']);
    expect(server().services.realtime.openStreams).toBe(open);

    first.close();
    const subscription = await pending;
    expect(subscription.status).toBe('open');
    const { id } = await client.realtime.broadcast(channel, 'hello', {});
    await third.until(() => third.events.length === 1, 'the broadcast on the third stream');
    expect(third.ids()).toEqual([id]);
    expect(third.errors).toEqual([]);
  });
});
