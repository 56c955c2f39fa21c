// subscribe() in Chromium, as an app's page runs it: the page holds a ticket its server minted
// (and no key), reads the stream across origins with the ticket in a header (never in the URL,
// and no cookie with it), and receives a broadcast made after subscribe() resolved.
import type { Server } from 'node:http';
import type { RealtimeEvent } from '@plinth/protocol';
import type { RealtimeTicket } from '@plinth/realtime';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../../test/fixtures/chromium.js';
import { serveApp } from '../../../storage/test/fixtures/browser-app.js';
import { subscribeModule } from '../fixtures/browser-module.js';
import { useRealtimeServer } from '../fixtures/realtime-server.js';

/** What the page's module and the code below put on `window`. */
interface PageGlobals {
  subscribe: typeof import('@plinth/realtime').subscribe;
  received: RealtimeEvent[];
  statuses: string[];
}

const skip = process.env.PLINTH_SKIP_BROWSER === '1';
let app: { server: Server; url: string } | undefined;
// The page's origin must be known before the server starts: its CORS list names it.
beforeAll(async () => {
  if (!skip) app = await serveApp(await subscribeModule());
}, 60_000);
const { plinth } = useRealtimeServer(() => ({ corsOrigins: app ? [app.url] : [] }));

describe.skipIf(skip)('subscribe() in Chromium', () => {
  let browser: Browser | undefined;
  let page: Page;
  const streamRequests: { url: string; authorization: string | undefined; cookie: string | undefined }[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (request) => {
      if (!request.url().includes('/v1/realtime/stream')) return;
      const headers = request.headers();
      streamRequests.push({ url: request.url(), authorization: headers.authorization, cookie: headers.cookie });
    });
    await page.goto(app?.url as string);
    await page.waitForFunction(() => 'subscribe' in window);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => app?.server.close(resolve));
  });

  it('receives a broadcast made once subscribe() resolved, with the ticket in a header', async () => {
    const client = plinth();
    const channel = 'browser:room';
    const ticket = await client.realtime.createTicket({ channels: [channel] });
    const status = await page.evaluate(async (ticket: RealtimeTicket) => {
      const globals = window as unknown as PageGlobals;
      globals.received = [];
      globals.statuses = [];
      const subscription = await globals.subscribe(ticket, {
        onEvent: (event) => globals.received.push(event),
        onStatus: (status) => globals.statuses.push(status),
      });
      return subscription.status;
    }, ticket);
    expect(status).toBe('open');

    const { id } = await client.realtime.broadcast(channel, 'hello', { from: 'server' });
    await page.waitForFunction(() => (window as unknown as PageGlobals).received.length > 0, undefined, {
      timeout: 10_000,
    });
    const received = await page.evaluate(() => (window as unknown as PageGlobals).received);
    expect(received).toEqual([{ id, channel, type: 'hello', payload: { from: 'server' }, at: expect.any(String) }]);

    expect(streamRequests).toHaveLength(1);
    expect(streamRequests[0]?.url).toBe(ticket.url);
    expect(streamRequests[0]?.url).not.toContain(ticket.ticket);
    expect(streamRequests[0]?.authorization).toBe(`Ticket ${ticket.ticket}`);
    expect(streamRequests[0]?.cookie).toBeUndefined();
  }, 60_000);

  it('is closed with an AuthError when its ticket expires and there is no getTicket', async () => {
    const ticket = await plinth().realtime.createTicket({ channels: ['browser:expiring'], expiresIn: 1 });
    const outcome = await page.evaluate(async (ticket: RealtimeTicket) => {
      const { subscribe } = window as unknown as PageGlobals;
      const statuses: string[] = [];
      return new Promise<{ statuses: string[]; name: string; code: string; reason: unknown }>((resolve) => {
        subscribe(ticket, {
          onEvent: () => {},
          onStatus: (status) => statuses.push(status),
          onError: (error) => {
            const { name, code, details } = error as { name: string; code: string; details?: { reason?: unknown } };
            resolve({ statuses, name, code, reason: details?.reason });
          },
        });
      });
    }, ticket);
    expect(outcome).toEqual({
      statuses: ['connecting', 'open', 'closed'],
      name: 'AuthError',
      code: 'session_expired',
      reason: 'ticket_expired',
    });
  }, 60_000);
});
