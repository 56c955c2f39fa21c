// subscribe() resolves once the server said `ready`, and a change committed after that is
// delivered: 50 times over, a write made the moment the promise resolves always arrives, both a
// broadcast and a row inserted into a published table through the data API.
import { describe, expect, it } from 'vitest';
import type { MessageRow } from '../fixtures/messages-schema.js';
import { useRealtimeServer } from '../fixtures/realtime-server.js';
import { recording, subscribed } from '../fixtures/subscription-recorder.js';

const { plinth } = useRealtimeServer();
const rounds = 50;

describe('a write made as soon as subscribe() resolves', () => {
  it(`is delivered, ${rounds} times out of ${rounds}: a broadcast`, async () => {
    const client = plinth();
    for (let round = 0; round < rounds; round++) {
      const channel = `ready:broadcast:${round}`;
      const seen = recording();
      const subscription = await subscribed(
        await client.realtime.createTicket({ channels: [channel] }),
        seen.options(),
      );
      const { id } = await client.realtime.broadcast(channel, 'ping', { round });
      await seen.until(() => seen.events.length > 0, `the broadcast of round ${round}`, 10_000);
      expect(seen.events, `round ${round}`).toEqual([
        { id, channel, type: 'ping', payload: { round }, at: expect.any(String) },
      ]);
      subscription.close();
    }
  }, 120_000);

  it(`is delivered, ${rounds} times out of ${rounds}: a row inserted through the data API`, async () => {
    const client = plinth();
    for (let round = 0; round < rounds; round++) {
      const seen = recording();
      const subscription = await subscribed(
        await client.realtime.createTicket({
          tables: ['messages'],
          where: { column: 'room_id', op: 'eq', value: 1000 + round },
        }),
        seen.options(),
      );
      const [row] = (await client
        .from('messages')
        .insert({ room_id: 1000 + round, body: `round ${round}`, secret: 'kept back' })
        .returning('id, room_id, body')) as MessageRow[];
      await seen.until(() => seen.events.length > 0, `the insert of round ${round}`, 10_000);
      expect(seen.events, `round ${round}`).toEqual([
        {
          id: expect.any(String),
          channel: 'table:public.messages',
          type: 'row.insert',
          payload: { table: 'public.messages', key: { id: row?.id }, new: { ...row } },
          at: expect.any(String),
        },
      ]);
      subscription.close();
    }
  }, 120_000);
});
