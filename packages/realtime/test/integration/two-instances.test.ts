// Two servers on one PostgreSQL database, as a deployment behind a load balancer runs them: a
// change written through one instance reaches a subscriber of the other (the log and its NOTIFY
// are shared), and a ticket minted by one is good on the other (the signing secret is in the
// database). Only with DATABASE_URL: PGlite is one process's database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type PlinthClient } from '@plinth/client';
import { type RunningServer, startServer } from '@plinth/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabaseLocation, testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import { type MessageRow, messagesSchemaDir } from '../fixtures/messages-schema.js';
import { generousRateRules } from '../fixtures/realtime-server.js';
import { recording, subscribed } from '../fixtures/subscription-recorder.js';

const onPostgres = Boolean(process.env.DATABASE_URL);
const locations = testDatabaseLocations();

describe.skipIf(!onPostgres)('two server instances on one PostgreSQL database (needs DATABASE_URL)', () => {
  const servers: RunningServer[] = [];
  const storageDir = mkdtempSync(join(tmpdir(), 'plinth-realtime-two-storage-'));
  let a: PlinthClient;
  let b: PlinthClient;

  beforeAll(async () => {
    const postgres = locations.find((location) => location.label === 'PostgreSQL') as TestDatabaseLocation;
    const database = await postgres.create();
    const schemaDir = messagesSchemaDir();
    // One after the other: the second finds the schema (and the keys) the first made.
    for (let i = 0; i < 2; i++) {
      servers.push(
        await startServer({ database, schemaDir, storageDir, logLevel: 'silent', rateRules: generousRateRules }),
      );
    }
    const [first, second] = servers as [RunningServer, RunningServer];
    expect(second.serviceKey).toBeUndefined();
    const keys = { publishableKey: first.publishableKey as string, serviceKey: first.serviceKey as string };
    a = createClient({ url: first.url, ...keys });
    b = createClient({ url: second.url, ...keys });
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) await server.close();
    rmSync(storageDir, { recursive: true, force: true });
  });

  it.each([
    ['A', 'B'],
    ['B', 'A'],
  ])('a row inserted through %s reaches a subscriber on %s', async (from) => {
    const [writer, reader] = from === 'A' ? [a, b] : [b, a];
    const room = from === 'A' ? 10 : 20;
    const ticket = await reader.realtime.createTicket({
      tables: ['messages'],
      where: { column: 'room_id', op: 'eq', value: room },
    });
    expect(new URL(ticket.url).origin).toBe(new URL(reader.transport.url).origin);
    const seen = recording();
    await subscribed(ticket, seen.options());
    const [row] = (await writer
      .from('messages')
      .insert({ room_id: room, body: `from ${from}` })
      .returning('id, room_id, body')) as MessageRow[];
    await seen.until(() => seen.events.length === 1, `the row written through ${from}`);
    expect(seen.events[0]).toMatchObject({ type: 'row.insert', payload: { new: row } });
  });

  it.each([
    ['A', 'B'],
    ['B', 'A'],
  ])(
    'a broadcast through %s reaches a subscriber on %s, with a ticket the writer’s instance minted',
    async (from, to) => {
      const [writer, reader] = from === 'A' ? [a, b] : [b, a];
      const channel = `two:${from}-${to}`;
      // Minted by the writer's instance, read on the other's: the ticket is good on both.
      const minted = await writer.realtime.createTicket({ channels: [channel] });
      const ticket = { ...minted, url: `${reader.transport.url}/v1/realtime/stream` };
      const seen = recording();
      await subscribed(ticket, seen.options());
      const { id } = await writer.realtime.broadcast(channel, 'hello', { from });
      await seen.until(() => seen.events.length === 1, `the broadcast through ${from}`);
      expect(seen.events).toEqual([{ id, channel, type: 'hello', payload: { from }, at: expect.any(String) }]);
    },
  );
});
