import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { HttpError } from '../../src/http/http-error.js';
import { createMemoryRateLimiter } from '../../src/rate-limit/memory-rate-limiter.js';
import { type RateLimitOptions, rateLimit } from '../../src/rate-limit/rate-limit-middleware.js';
import type { RateLimiter } from '../../src/rate-limit/rate-limiter.js';

const proxy = '10.0.0.5';

/**
 * A tiny app: two routes behind the middleware, answering the error envelope the way the real
 * app does, with a hand-moved clock and a count of requests that reached a handler.
 */
function tinyApp(options: Partial<RateLimitOptions> = {}) {
  let nowMs = 1_000_000;
  const limit = rateLimit({
    limiter: createMemoryRateLimiter({ now: () => nowMs }),
    rules: defaultRateRules,
    ...options,
  });
  const reached: string[] = [];
  const app = new Hono();
  app.post('/v1/auth/sign-in', limit('auth.signIn'), (c) => {
    reached.push('auth.signIn');
    return c.json({ ok: true });
  });
  app.post('/v1/auth/sign-up', limit('auth.signUp'), (c) => {
    reached.push('auth.signUp');
    return c.json({ ok: true });
  });
  app.onError((error, c) => (error instanceof HttpError ? error.toResponse('req-test-1') : c.text('boom', 500)));

  /** A request as @hono/node-server hands it over: the socket's address in `c.env.incoming`. */
  const send = (path: string, from: string, headers: Record<string, string> = {}) =>
    app.request(path, { method: 'POST', headers }, { incoming: { socket: { remoteAddress: from } } });
  return {
    send,
    reached,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

const statuses = async (responses: (Response | Promise<Response>)[]) =>
  (await Promise.all(responses)).map((r) => r.status);
const repeat = <T>(times: number, make: (index: number) => T) =>
  Array.from({ length: times }, (_, index) => make(index));

describe('rateLimit middleware', () => {
  it('answers 429 with Retry-After and the error envelope once an IP has used the capacity', async () => {
    const { send, reached } = tinyApp();
    // auth.signIn's default rule: a burst of 10, then 10 a minute (a token every 6 s).
    expect(await statuses(repeat(10, () => send('/v1/auth/sign-in', '203.0.113.7')))).toEqual(repeat(10, () => 200));

    const refused = await send('/v1/auth/sign-in', '203.0.113.7');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('6');
    expect(await refused.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: 'Too many requests to auth.signIn; try again in 6 s.',
        details: { retryAfter: 6 },
        requestId: 'req-test-1',
      },
    });
    expect(reached).toHaveLength(10); // the refused request never reached the handler
  });

  it('still lets another IP through, and the limited IP on other routes', async () => {
    const { send } = tinyApp();
    await Promise.all(repeat(10, () => send('/v1/auth/sign-in', '203.0.113.7')));
    expect((await send('/v1/auth/sign-in', '203.0.113.7')).status).toBe(429);

    expect((await send('/v1/auth/sign-in', '198.51.100.20')).status).toBe(200);
    expect((await send('/v1/auth/sign-up', '203.0.113.7')).status).toBe(200);
  });

  it('lets the client back in once it has waited the Retry-After it was given', async () => {
    const { send, advance } = tinyApp();
    await Promise.all(repeat(10, () => send('/v1/auth/sign-in', '203.0.113.7')));
    const refused = await send('/v1/auth/sign-in', '203.0.113.7');
    advance(Number(refused.headers.get('retry-after')) * 1000);
    expect((await send('/v1/auth/sign-in', '203.0.113.7')).status).toBe(200);
    expect((await send('/v1/auth/sign-in', '203.0.113.7')).status).toBe(429);
  });

  it('uses the rules it is given over the defaults', async () => {
    const { send } = tinyApp({ rules: { 'auth.signIn': { capacity: 2, refillPerSecond: 0.5 } } });
    expect(await statuses(repeat(3, () => send('/v1/auth/sign-in', '203.0.113.7')))).toEqual([200, 200, 429]);
    const refused = await send('/v1/auth/sign-in', '203.0.113.7');
    expect(refused.headers.get('retry-after')).toBe('2');
  });

  it('without a trusted proxy header, X-Forwarded-For buys a client no fresh bucket', async () => {
    const { send } = tinyApp();
    const codes = await statuses(
      repeat(11, (index) => send('/v1/auth/sign-in', proxy, { 'x-forwarded-for': `203.0.113.${index}` })),
    );
    expect(codes.filter((status) => status === 429)).toHaveLength(1);
  });

  it('behind a trusted proxy, counts clients by the entry the proxy appended, not forged ones', async () => {
    const { send } = tinyApp({ trustedProxyHeader: 'x-forwarded-for' });
    // Many clients share the proxy's socket address, yet each gets its own bucket.
    for (let client = 1; client <= 12; client++) {
      expect((await send('/v1/auth/sign-in', proxy, { 'x-forwarded-for': `198.51.100.${client}` })).status).toBe(200);
    }
    // One client forging a different left-hand entry each time is still one client.
    const codes = await statuses(
      repeat(11, (index) => send('/v1/auth/sign-in', proxy, { 'x-forwarded-for': `6.6.6.${index}, 203.0.113.7` })),
    );
    expect(codes.filter((status) => status === 429)).toHaveLength(1);
  });

  it('lets nothing through when the limiter fails', async () => {
    const broken: RateLimiter = {
      consume: () => Promise.reject(new Error('redis down')),
      close: () => Promise.resolve(),
    };
    const { send, reached } = tinyApp({ limiter: broken });
    expect((await send('/v1/auth/sign-in', '203.0.113.7')).status).toBe(500);
    expect(reached).toHaveLength(0);
  });

  it('reads the address through the getter it is given', async () => {
    const { send } = tinyApp({ remoteAddress: (c) => c.req.header('x-test-peer') });
    await Promise.all(repeat(10, () => send('/v1/auth/sign-in', 'ignored', { 'x-test-peer': '203.0.113.7' })));
    expect((await send('/v1/auth/sign-in', 'ignored', { 'x-test-peer': '203.0.113.7' })).status).toBe(429);
    expect((await send('/v1/auth/sign-in', 'ignored', { 'x-test-peer': '203.0.113.8' })).status).toBe(200);
  });

  it('without a Node socket (app.request with no env), counts all such requests as one unknown client', async () => {
    const limit = rateLimit({
      limiter: createMemoryRateLimiter({ now: () => 0 }),
      rules: { 'auth.signIn': { capacity: 1, refillPerSecond: 0.001 } },
    });
    const app = new Hono();
    app.post('/v1/auth/sign-in', limit('auth.signIn'), (c) => c.json({ ok: true }));
    app.onError((error, c) => (error instanceof HttpError ? error.toResponse('req-test-2') : c.text('boom', 500)));
    expect((await app.request('/v1/auth/sign-in', { method: 'POST' })).status).toBe(200);
    expect((await app.request('/v1/auth/sign-in', { method: 'POST' })).status).toBe(429);
  });

  it('reads the socket address from a real @hono/node-server connection by default', async () => {
    const seen: number[] = [];
    const limit = rateLimit({
      limiter: createMemoryRateLimiter(),
      rules: { 'auth.signIn': { capacity: 2, refillPerSecond: 0.001 } },
    });
    const app = new Hono();
    app.post('/v1/auth/sign-in', limit('auth.signIn'), (c) => c.json({ ok: true }));
    app.onError((error, c) => (error instanceof HttpError ? error.toResponse('req-test-3') : c.text('boom', 500)));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/auth/sign-in`;
      for (let i = 0; i < 3; i++) seen.push((await fetch(url, { method: 'POST' })).status);
      expect(seen).toEqual([200, 200, 429]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses, at set-up, a trusted proxy header that is no header name and rules that are wrong', () => {
    const limiter = createMemoryRateLimiter();
    expect(() => rateLimit({ limiter, trustedProxyHeader: 'x forwarded for' })).toThrow(/trustedProxyHeader/);
    expect(() => rateLimit({ limiter, rules: { default: { capacity: 0, refillPerSecond: 1 } } })).toThrow(/default/);
    expect(() => rateLimit({ limiter, rules: { 'auth.sigIn': { capacity: 1, refillPerSecond: 1 } } })).toThrow(
      /Rate rule "auth\.sigIn" names no route/,
    );
  });
});
