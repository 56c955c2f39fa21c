import * as full from '@plinth/client';
import { ConfigurationError, MissingServiceKeyError } from '@plinth/core';
import * as realtime from '@plinth/realtime';
import { describe, expect, it, vi } from 'vitest';
import { thrownSynchronously } from '../../../test/fixtures/thrown-synchronously.js';
import * as browser from '../../client/src/index.browser.js';
import { settle, useSseServer } from './fixtures/sse-server.js';

// plinth.realtime in @plinth/client: built on first read in the full build; in the browser
// build, stubs that carry none of realtime's code (browsers import `subscribe` instead).

// Wrap the real createRealtimeClient in a spy, to see when a client builds one.
vi.mock('@plinth/realtime', async (importOriginal) => {
  const original = await importOriginal<typeof import('@plinth/realtime')>();
  return { ...original, createRealtimeClient: vi.fn(original.createRealtimeClient) };
});

const server = useSseServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';

describe('plinth.realtime, full build', () => {
  it('is built on first read, once, over the client’s transport', () => {
    const create = vi.mocked(realtime.createRealtimeClient);
    create.mockClear();
    const plinth = full.createClient({ url: server.url, publishableKey: 'pk_test', serviceKey });
    expect(create).not.toHaveBeenCalled();
    const first = plinth.realtime;
    expect(create).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledWith(plinth.transport);
    expect(plinth.realtime).toBe(first);
    expect(first.subscribe).toBe(realtime.subscribe);
  });

  it('mints a ticket with the service key', async () => {
    const plinth = full.createClient({ url: server.url, publishableKey: 'pk_test', serviceKey });
    const pending = plinth.realtime.createTicket({ channels: ['room:r1'] });
    const c = await server.next();
    expect(c.request.headers.authorization).toBe(`Bearer ${serviceKey}`);
    c.answer(200, server.ticket('rt_one'));
    expect(await pending).toEqual(server.ticket('rt_one'));
  });

  it('throws MissingServiceKeyError synchronously without the service key, and sends nothing', async () => {
    const plinth = full.createClient({ url: server.url, publishableKey: 'pk_test' });
    expect(thrownSynchronously(() => plinth.realtime.createTicket())).toBeInstanceOf(MissingServiceKeyError);
    expect(thrownSynchronously(() => plinth.realtime.broadcast('room:r1', 'x'))).toBeInstanceOf(MissingServiceKeyError);
    expect(thrownSynchronously(() => plinth.realtime.stream())).toBeInstanceOf(MissingServiceKeyError);
    await settle();
    expect(server.connections).toHaveLength(0);
  });

  it('exports subscribe, the browser’s way to listen, from both builds', () => {
    expect(full.subscribe).toBe(realtime.subscribe);
    expect(browser.subscribe).toBe(realtime.subscribe);
  });
});

describe('plinth.realtime, browser build', () => {
  it('builds no realtime client, and its server methods throw MissingServiceKeyError synchronously', async () => {
    const create = vi.mocked(realtime.createRealtimeClient);
    create.mockClear();
    const plinth = browser.createClient({ url: server.url, publishableKey: 'pk_test' });
    for (const [call, caller] of [
      [() => plinth.realtime.createTicket({ channels: ['room:r1'] }), 'realtime.createTicket()'],
      [() => plinth.realtime.broadcast('room:r1', 'x'), 'realtime.broadcast()'],
      [() => plinth.realtime.stream(), 'realtime.stream()'],
    ] as const) {
      const error = thrownSynchronously(call);
      expect(error).toBeInstanceOf(MissingServiceKeyError);
      expect((error as Error).message.startsWith(`${caller} needs a service key`)).toBe(true);
    }
    expect(create).not.toHaveBeenCalled();
    await settle();
    expect(server.connections).toHaveLength(0);
  });

  it('points plinth.realtime.subscribe at the subscribe import', async () => {
    const plinth = browser.createClient({ url: server.url, publishableKey: 'pk_test' });
    const error = thrownSynchronously(() => plinth.realtime.subscribe(server.ticket(), { onEvent: () => {} }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain("import { subscribe } from '@plinth/client'");
    await settle();
    expect(server.connections).toHaveLength(0);
  });

  it('says how to get the realtime client where a service key is allowed in a browser', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    try {
      const plinth = browser.createClient({
        url: server.url,
        publishableKey: 'pk_test',
        serviceKey,
        dangerouslyAllowBrowser: true,
      });
      const error = thrownSynchronously(() => plinth.realtime.createTicket());
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).not.toBeInstanceOf(MissingServiceKeyError);
      expect((error as Error).message).toContain('createRealtimeClient(plinth.transport) from @plinth/realtime');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
