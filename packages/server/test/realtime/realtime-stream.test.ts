import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishEvents } from '../../src/events/event-log.js';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { openSse, type SseMessage } from '../fixtures/sse-client.js';
import { useTestServer } from '../fixtures/test-server.js';

// Realtime end to end over real sockets: tickets, the stream's framing, resume with
// Last-Event-ID, filters and leave, retention, expiry, revocation and caps. Every refusal is a
// 4xx naming what was wrong.

const schemaDir = mkdtempSync(join(tmpdir(), 'plinth-realtime-schema-'));
writeFileSync(
  join(schemaDir, '001-messages.sql'),
  `CREATE TABLE IF NOT EXISTS messages (
     id serial PRIMARY KEY,
     room_id integer NOT NULL,
     body text NOT NULL,
     secret text
   );
   CREATE TABLE IF NOT EXISTS unpublished (id serial PRIMARY KEY);
   SELECT plinth.publish_table('messages', ARRAY['secret']);
   CREATE SCHEMA IF NOT EXISTS crm;
   CREATE TABLE IF NOT EXISTS crm.notes (id serial PRIMARY KEY, owner integer NOT NULL, text text NOT NULL);
   SELECT plinth.publish_table('crm.notes');
   -- The test writes its rows as the server's role.
   GRANT USAGE ON SCHEMA crm TO plinth_server;
   GRANT INSERT ON crm.notes TO plinth_server;
   GRANT USAGE ON SEQUENCE crm.notes_id_seq TO plinth_server;`,
);

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  schemaDir,
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
  realtimeMaxStreamsPerUser: 2,
  realtimeRetentionEvents: 100,
});
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });

interface Ticket {
  ticket: string;
  url: string;
  expiresAt: string;
}

async function ticketFor(body: Record<string, unknown>): Promise<Ticket> {
  const answer = await call('POST', '/v1/realtime/tickets', body, asService());
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as Ticket;
}

const broadcast = async (channel: string, event: string, payload: unknown) => {
  const answer = await call('POST', '/v1/realtime/broadcast', { channel, event, payload }, asService());
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body?.id as string;
};

const sql = (text: string, params: unknown[] = []) => server().services.database.query(text, params);
/** The app's own SQL, through the data API as the service role: the path an app's writes take. */
const appSql = async (text: string, params: unknown[] = []) => {
  const answer = await call('POST', '/v1/sql', { text, params }, asService());
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body?.rows as Record<string, unknown>[];
};

let channelCount = 0;
const newChannel = () => `room:${++channelCount}-${Date.now().toString(36)}`;

async function ready(ticket: Ticket, lastEventId?: string) {
  const stream = await openSse(ticket.url, ticket.ticket, lastEventId ? { 'last-event-id': lastEventId } : {});
  expect(stream.status, JSON.stringify(stream.error)).toBe(200);
  const first = await stream.next();
  expect(first?.event).toBe('ready');
  return { stream, first: first as SseMessage };
}

describe('tickets', () => {
  it('are minted with the service key, with the stream URL and expiry', async () => {
    const ticket = await ticketFor({ channels: [newChannel()], expiresIn: 60 });
    expect(ticket.ticket).toMatch(/^tk_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(ticket.url).toBe(`${server().url}/v1/realtime/stream`);
    const left = Date.parse(ticket.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(50_000);
    expect(left).toBeLessThanOrEqual(60_000);
  });

  it.each([
    ['no key', undefined, { channels: ['a'] }, 401, undefined],
    ['nothing to hear', 'service', {}, 400, 'channels'],
    ['a table that is not published', 'service', { tables: ['unpublished'] }, 400, 'tables.0'],
    ['a table that does not exist', 'service', { tables: ['nope'] }, 400, 'tables.0'],
    ['a table as a channel', 'service', { channels: ['table:public.messages'] }, 400, 'channels.0'],
    [
      'a filter without tables',
      'service',
      { channels: ['a'], where: { column: 'x', op: 'eq', value: 1 } },
      400,
      'where',
    ],
    [
      'a filter on an unknown column',
      'service',
      { tables: ['messages'], where: { column: 'nope', op: 'eq', value: 1 } },
      400,
      'where',
    ],
    [
      'a filter on an excluded column',
      'service',
      { tables: ['messages'], where: { column: 'secret', op: 'eq', value: 'x' } },
      400,
      'where',
    ],
    ['an expiry of 0', 'service', { channels: ['a'], expiresIn: 0 }, 400, 'expiresIn'],
    ['an expiry over a day', 'service', { channels: ['a'], expiresIn: 86_401 }, 400, 'expiresIn'],
    ['a channel with spaces', 'service', { channels: ['a b'] }, 400, 'channels.0'],
    ['51 channels', 'service', { channels: Array.from({ length: 51 }, (_, i) => `c${i}`) }, 400, 'channels'],
    [
      'a session that does not exist',
      'service',
      { channels: ['a'], sessionId: '00000000-0000-4000-8000-000000000000' },
      400,
      'sessionId',
    ],
    [
      'a user that does not exist',
      'service',
      { channels: ['a'], userId: '00000000-0000-4000-8000-000000000000' },
      400,
      'userId',
    ],
    ['a where nested 200 deep', 'service', { tables: ['messages'], where: nested(200) }, 400, undefined],
  ])('are refused for %s', async (_, auth, body, status, field) => {
    const answer = await call('POST', '/v1/realtime/tickets', body, auth ? asService() : {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    if (field) expect(answer.body?.error.details.field).toMatch(new RegExp(`^${field.replace('.', '\\.')}`));
  });
});

function nested(depth: number): unknown {
  let condition: unknown = { column: 'room_id', op: 'eq', value: 1 };
  for (let i = 0; i < depth; i++) condition = { not: condition };
  return condition;
}

describe('the stream', () => {
  it('is refused without a ticket, with a forged, tampered or expired one', async () => {
    const good = await ticketFor({ channels: ['a'], expiresIn: 1 });
    const [prefix, signature] = good.ticket.split('.') as [string, string];
    const tampered = `${prefix.slice(0, -2)}${prefix.at(-2) === 'A' ? 'B' : 'A'}${prefix.at(-1)}.${signature}`;
    const cases: [string | undefined, string][] = [
      [undefined, 'unauthenticated'],
      ['tk_abc.def', 'unauthenticated'],
      [tampered, 'unauthenticated'],
      [`${prefix}.${'A'.repeat(43)}`, 'unauthenticated'],
      // Over the server's 8 KiB bound on a ticket, under Node's 16 KiB on headers.
      [`tk_${'x'.repeat(9000)}.${'A'.repeat(43)}`, 'unauthenticated'],
    ];
    for (const [ticket, code] of cases) {
      const stream = await openSse(good.url, ticket);
      expect(stream.status).toBe(401);
      expect(stream.error?.code).toBe(code);
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await openSse(good.url, good.ticket);
    expect(expired.status).toBe(401);
    expect(expired.error?.code).toBe('session_expired');
    expect(expired.error?.message).toContain('getTicket');
  });

  it('starts with ready and a retry hint, then delivers what is written after it', async () => {
    const channel = newChannel();
    const { stream, first } = await ready(await ticketFor({ channels: [channel] }));
    expect(first.retry).toBe(2000);
    expect(first.id).toBe((first.data as { cursor: string }).cursor);
    // Written right after ready: always delivered.
    const id = await broadcast(channel, 'typing', { user: 'ana' });
    const message = await stream.next();
    expect(message).toMatchObject({
      id,
      event: 'typing',
      data: { id, channel, type: 'typing', payload: { user: 'ana' } },
    });
    expect(BigInt(id)).toBeGreaterThan(BigInt(first.id as string));
    // Another channel's broadcast is not this stream's.
    await broadcast(newChannel(), 'typing', {});
    const mine = await broadcast(channel, 'typing', { user: 'bo' });
    expect((await stream.next())?.id).toBe(mine);
    stream.close();
  });

  it('resumes after Last-Event-ID in order, with nothing missed and nothing twice', async () => {
    const channel = newChannel();
    const ticket = await ticketFor({ channels: [channel] });
    const { stream } = await ready(ticket);
    const first = await broadcast(channel, 'n', { n: 0 });
    expect((await stream.next())?.id).toBe(first);
    stream.close();
    const missed: string[] = [];
    for (let n = 1; n <= 30; n++) missed.push(await broadcast(channel, 'n', { n }));
    const again = await ready(ticket, first);
    expect(again.first.id).toBe(first);
    const live = broadcast(channel, 'n', { n: 31 });
    const seen = await again.stream.collect((message) => (message.data as { payload: { n: number } }).payload.n === 31);
    expect(seen.map((message) => message.id)).toEqual([...missed, await live]);
    again.stream.close();
  });

  it('refuses a Last-Event-ID that is not an id, and resets one the log never had', async () => {
    const ticket = await ticketFor({ channels: [newChannel()] });
    const bad = await openSse(ticket.url, ticket.ticket, { 'last-event-id': '12abc' });
    expect(bad.status).toBe(400);
    expect(bad.error?.details?.field).toBe('last-event-id');
    const { stream, first } = await ready(ticket, '99999999999');
    const reset = await stream.next();
    expect(reset).toMatchObject({ event: 'reset', id: first.id, data: { reason: 'unknown_cursor', cursor: first.id } });
    stream.close();
  });

  it('filters rows in memory, sends leave when a row moves out, and never sends excluded columns', async () => {
    const ticket = await ticketFor({ tables: ['messages'], where: { column: 'room_id', op: 'eq', value: 1 } });
    const { stream } = await ready(ticket);
    const [inRoom1] = await appSql("INSERT INTO messages (room_id, body, secret) VALUES (1, 'hi', 's') RETURNING id");
    await appSql("INSERT INTO messages (room_id, body) VALUES (2, 'elsewhere')");
    await appSql('UPDATE messages SET room_id = 2 WHERE id = $1', [(inRoom1 as { id: number }).id]);
    await appSql("INSERT INTO messages (room_id, body) VALUES (1, 'last')");
    const seen = await stream.collect(
      (message) => (message.data as { payload: { new?: { body?: string } } }).payload.new?.body === 'last',
    );
    expect(seen.map((message) => message.event)).toEqual(['row.insert', 'leave', 'row.insert']);
    const [insert, leave] = seen as [SseMessage, SseMessage];
    expect(insert.data).toMatchObject({
      channel: 'table:public.messages',
      payload: {
        table: 'public.messages',
        key: { id: (inRoom1 as { id: number }).id },
        new: { room_id: 1, body: 'hi' },
      },
    });
    expect(JSON.stringify(insert.data)).not.toContain('secret');
    expect(leave.data).toEqual({
      id: leave.id,
      channel: 'table:public.messages',
      type: 'leave',
      payload: { table: 'public.messages', key: { id: (inRoom1 as { id: number }).id } },
      at: expect.any(String),
    });
    stream.close();
  });

  it('delivers one statement of 600 changes in order: all to a stream that takes every row, its own to a filtered one', async () => {
    // 600 events cross a page of the reader (500): each stream gets a page as one chunk, and a
    // stream that takes the whole page shares it with the others. The filtered stream must not.
    const all = await ready(await ticketFor({ tables: ['messages'] }));
    const room1 = await ready(
      await ticketFor({ tables: ['messages'], where: { column: 'room_id', op: 'eq', value: 1 } }),
    );
    const rows = await appSql(
      "INSERT INTO messages (room_id, body) SELECT 1 + n % 2, 'bulk ' || n FROM generate_series(1, 600) AS n RETURNING id, room_id",
    );
    expect(rows).toHaveLength(600);
    // Row 600 is in room 1 (1 + 600 % 2): the last of both streams.
    const isLast = (message: SseMessage) =>
      (message.data as { payload: { new?: { body?: string } } }).payload.new?.body === 'bulk 600';
    const seenByAll = await all.stream.collect(isLast);
    const seenByRoom1 = await room1.stream.collect(isLast);
    const keyOf = (message: SseMessage) => (message.data as { payload: { key: { id: number } } }).payload.key.id;
    expect(seenByAll.map(keyOf)).toEqual(rows.map((row) => row.id));
    expect(seenByRoom1.map(keyOf)).toEqual(rows.filter((row) => row.room_id === 1).map((row) => row.id));
    const ids = seenByAll.map((message) => BigInt(message.id as string));
    expect(ids.every((id, n) => n === 0 || id > (ids[n - 1] as bigint))).toBe(true);
    all.stream.close();
    room1.stream.close();
  });

  it('carries a published table of another schema than public, with its filter', async () => {
    const refused = await call(
      'POST',
      '/v1/realtime/tickets',
      { tables: ['crm.notes'], where: { column: 'nope', op: 'eq', value: 1 } },
      asService(),
    );
    expect(refused.status).toBe(400);
    expect(refused.body?.error.details.field).toMatch(/^where/);
    for (let open = 0; open < 2; open++) {
      const { stream } = await ready(
        await ticketFor({ tables: ['crm.notes'], where: { column: 'owner', op: 'eq', value: 7 } }),
      );
      await sql("INSERT INTO crm.notes (owner, text) VALUES (8, 'not yours'), (7, $1)", [`mine ${open}`]);
      const message = await stream.next();
      expect(message).toMatchObject({
        event: 'row.insert',
        data: { channel: 'table:crm.notes', payload: { table: 'crm.notes', new: { owner: 7, text: `mine ${open}` } } },
      });
      stream.close();
    }
  });

  it('tells a client whose id was pruned to refetch, with reset', async () => {
    const channel = newChannel();
    const ticket = await ticketFor({ channels: [channel] });
    const old = await broadcast(channel, 'n', {});
    for (let n = 0; n < 120; n++) await broadcast(newChannel(), 'n', {});
    expect(await server().services.realtime.prune()).toBeGreaterThan(0);
    const { stream, first } = await ready(ticket, old);
    expect(await stream.next()).toMatchObject({ event: 'reset', id: first.id, data: { reason: 'retention' } });
    stream.close();
  });

  it('ends with end: ticket_expired when its ticket expires', async () => {
    const { stream } = await ready(await ticketFor({ channels: [newChannel()], expiresIn: 2 }));
    const end = await stream.next(5000);
    expect(end).toMatchObject({ event: 'end', data: { reason: 'ticket_expired' } });
    expect(await stream.next()).toBeUndefined();
  });

  it('ends within a second of the session being revoked, and refuses that session after', async () => {
    const [user] = await sql('INSERT INTO plinth.users (email) VALUES ($1) RETURNING id::text AS id', [
      `rt-${Date.now()}@example.com`,
    ]);
    const userId = (user as { id: string }).id;
    const [session] = await sql(
      "INSERT INTO plinth.sessions (user_id, not_after) VALUES ($1, now() + interval '1 day') RETURNING id::text AS id",
      [userId],
    );
    const sessionId = (session as { id: string }).id;
    const ticket = await ticketFor({ channels: [newChannel()], sessionId });
    const { stream } = await ready(ticket);
    const revoked = await call('DELETE', `/v1/admin/users/${userId}/sessions/${sessionId}`, undefined, asService());
    expect(revoked.status, JSON.stringify(revoked.body)).toBeLessThan(300);
    // The bound the feature promises: the end arrives within 1 s of the revocation.
    expect(await stream.next(1000)).toMatchObject({ event: 'end', data: { reason: 'session_revoked' } });
    const after = await openSse(ticket.url, ticket.ticket);
    expect(after.status).toBe(401);
    expect(after.error?.code).toBe('session_expired');
  });

  it('holds the caps per ticket and per user', async () => {
    const [user] = await sql('INSERT INTO plinth.users (email) VALUES ($1) RETURNING id::text AS id', [
      `cap-${Date.now()}@example.com`,
    ]);
    const userId = (user as { id: string }).id;
    const ticket = await ticketFor({ channels: [newChannel()], userId });
    const a = await ready(ticket);
    const b = await ready(ticket);
    const third = await openSse(ticket.url, ticket.ticket);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    // Another ticket of the same user: the user's cap (2 here) holds too.
    const other = await openSse(
      (await ticketFor({ channels: ['x'], userId })).url,
      (await ticketFor({ channels: ['x'], userId })).ticket,
    );
    expect(other.status).toBe(429);
    a.stream.close();
    b.stream.close();
    // Closed streams free their places.
    await expect
      .poll(async () => {
        const next = await openSse(ticket.url, ticket.ticket);
        next.close();
        return next.status;
      })
      .toBe(200);
  });

  it('carries storage events to a ticket for storage:<bucket>', async () => {
    const bucket = `rt-${Date.now().toString(36)}`;
    expect((await call('POST', '/v1/storage/buckets', { name: bucket }, asService())).status).toBe(200);
    const { stream } = await ready(await ticketFor({ channels: [`storage:${bucket}`] }));
    const grant = await call('POST', `/v1/storage/buckets/${bucket}/upload-urls`, { key: 'a.txt' }, asService());
    const put = await fetch(grant.body?.url, {
      method: 'PUT',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(200);
    expect(await stream.next()).toMatchObject({
      event: 'object.created',
      data: { channel: `storage:${bucket}`, payload: { object: { key: 'a.txt', size: 5 } } },
    });
    stream.close();
  });
});

describe('broadcast', () => {
  it.each([
    ['no key', undefined, { channel: 'a', event: 'e' }, 401, undefined],
    ['a server channel', 'service', { channel: 'table:public.messages', event: 'e' }, 400, 'channel'],
    ['a storage channel', 'service', { channel: 'storage:avatars', event: 'e' }, 400, 'channel'],
    ['an event name with spaces', 'service', { channel: 'a', event: 'e f' }, 400, 'event'],
    ['an event name of 65 characters', 'service', { channel: 'a', event: 'e'.repeat(65) }, 400, 'event'],
    ['a payload over 64 KiB', 'service', { channel: 'a', event: 'e', payload: 'x'.repeat(70_000) }, 400, 'payload'],
    ['a channel that is a number', 'service', { channel: 5, event: 'e' }, 400, 'channel'],
  ])('is refused for %s', async (_, auth, body, status, field) => {
    const answer = await call('POST', '/v1/realtime/broadcast', body, auth ? asService() : {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    if (field) expect(answer.body?.error.details.field).toBe(field);
  });

  it('is written by the server alone: the data API cannot call the log functions', async () => {
    const [{ head: before } = { head: '' }] = (await sql('SELECT max(id)::text AS head FROM plinth.events')) as {
      head: string;
    }[];
    for (const text of [
      "SELECT plinth.publish_event('room:1', 'forged', '{}'::jsonb)",
      `SELECT plinth.publish_events('[{"channel":"room:1","type":"forged","payload":{}}]'::jsonb)`,
    ]) {
      const answer = await call('POST', '/v1/sql', { text, params: [] }, asService());
      expect(answer.status, text).toBeGreaterThanOrEqual(400);
      expect(answer.status, text).toBeLessThan(500);
    }
    const [{ head: after } = { head: '' }] = (await sql('SELECT max(id)::text AS head FROM plinth.events')) as {
      head: string;
    }[];
    expect(after).toBe(before);
  });

  it('writes a batch with one statement, its ids in the order given, and nothing for an empty one', async () => {
    const channel = newChannel();
    const { stream } = await ready(await ticketFor({ channels: [channel] }));
    const { database } = server().services;
    const ids = await database.transaction((tx) =>
      publishEvents(tx, [
        { channel, type: 'n', payload: { n: 1 } },
        { channel, type: 'n', payload: undefined },
        { channel, type: 'n', payload: { n: 3 } },
      ]),
    );
    expect(ids.map((id) => BigInt(id) - BigInt(ids[0] as string))).toEqual([0n, 1n, 2n]);
    expect(await database.transaction((tx) => publishEvents(tx, []))).toEqual([]);
    const seen = await stream.collect((message) => message.id === ids[2]);
    expect(seen.map((message) => [message.id, (message.data as { payload: unknown }).payload])).toEqual([
      [ids[0], { n: 1 }],
      [ids[1], null],
      [ids[2], { n: 3 }],
    ]);
    stream.close();
  });

  it('answers distinct ids for concurrent broadcasts, replayed in id order', async () => {
    const channel = newChannel();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => broadcast(channel, 'n', { n })));
    expect(new Set(ids).size).toBe(20);
    const sorted = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const before = String(BigInt(sorted[0] as string) - 1n);
    const { stream } = await ready(await ticketFor({ channels: [channel] }), before);
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 20; i++) seen.push((await stream.next())?.id);
    expect(seen).toEqual(sorted);
    stream.close();
  });
});
