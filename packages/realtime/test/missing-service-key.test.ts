import { createTransport, MissingServiceKeyError } from '@plinth/core';
import { createRealtimeClient } from '@plinth/realtime';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { thrownSynchronously } from '../../../test/fixtures/thrown-synchronously.js';

// Every server-side method throws synchronously on a client without a service key: the throw
// happens at the call (no promise, no iterable is returned) and nothing reaches the network. The
// msw server answers nothing, so a request that did go out would also fail the test as unhandled.
const mock = useMockServer();
const realtime = createRealtimeClient(createTransport({ url: apiUrl, publishableKey: 'pk_test' }));

describe('MissingServiceKeyError, synchronously, with zero requests', () => {
  it.each([
    ['createTicket()', () => realtime.createTicket({ channels: ['room:r1'] }), 'realtime.createTicket()'],
    ['createTicket() with nothing', () => realtime.createTicket(), 'realtime.createTicket()'],
    ['broadcast()', () => realtime.broadcast('room:r1', 'typing', { a: 1 }), 'realtime.broadcast()'],
    ['stream()', () => realtime.stream({ tables: ['orders'] }), 'realtime.stream()'],
    ['stream() with nothing', () => realtime.stream(), 'realtime.stream()'],
  ])('%s', async (_, call, caller) => {
    const error = thrownSynchronously(call);
    expect(error).toBeInstanceOf(MissingServiceKeyError);
    expect(error).toMatchObject({ code: 'missing_service_key', name: 'MissingServiceKeyError' });
    expect((error as Error).message.startsWith(`${caller} needs a service key`)).toBe(true);
    // The message points the browser at the way it can listen.
    expect((error as Error).message).toContain('realtime ticket');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });
});
