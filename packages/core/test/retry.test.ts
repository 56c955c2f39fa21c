import { createTransport, NetworkError, RateLimitError, ServerError } from '@plinth/core';
import { defineRoute } from '@plinth/protocol';
import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { createThingRoute, idempotentPostRoute, publicGetRoute } from '../../../test/fixtures/routes.js';

const mock = useMockServer();
const start = Date.UTC(2026, 10, 23, 12, 0, 0);

/** Answers with each response in turn (the last one repeats), noting the fake clock at each request. */
function sequence(method: 'get' | 'post', path: string, responses: (() => Response)[]) {
  const times: number[] = [];
  mock.use(
    http[method](`${apiUrl}${path}`, () => {
      times.push(Date.now() - start);
      const next = responses[Math.min(times.length - 1, responses.length - 1)] as () => Response;
      return next();
    }),
  );
  return times;
}

const unavailableBody = { error: { code: 'service_unavailable', message: 'down', requestId: 'r' } };
const unavailable = () => HttpResponse.json(unavailableBody, { status: 503 });
const pong = () => HttpResponse.json({ pong: true });
const delaysBetween = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] as number));

/** Runs the call to completion under fake timers and returns its result or error. */
async function settle<T>(promise: Promise<T>): Promise<T | unknown> {
  const outcome = promise.then(
    (value) => value,
    (error: unknown) => error,
  );
  await vi.runAllTimersAsync();
  return outcome;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(start);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('retries of idempotent calls', () => {
  it('backs off exponentially with full jitter: random × min(maxDelay, base × 2^(n-1))', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const times = sequence('get', '/v1/test/ping', [unavailable, unavailable, pong]);
    const transport = createTransport({ url: apiUrl });
    expect(await settle(transport.call(publicGetRoute))).toEqual({ pong: true });
    expect(times).toHaveLength(3);
    expect(delaysBetween(times)).toEqual([250, 500]); // 0.5 × 500, 0.5 × 1000
  });

  it('draws each delay from the whole window (0 up to the ceiling), capped by maxDelay', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const times = sequence('get', '/v1/test/ping', [unavailable]);
    // A budget large enough not to cut the last waits short: this test is about the window.
    const transport = createTransport({
      url: apiUrl,
      retry: { limit: 5, baseDelay: 1000, maxDelay: 4000, maxElapsed: 60_000 },
    });
    expect(await settle(transport.call(publicGetRoute))).toBeInstanceOf(ServerError);
    expect(times).toHaveLength(6);
    expect(delaysBetween(times)).toEqual([999, 1998, 3996, 3996, 3996]);

    vi.spyOn(Math, 'random').mockReturnValue(0);
    const again = sequence('get', '/v1/test/ping', [unavailable, pong]);
    expect(await settle(transport.call(publicGetRoute))).toEqual({ pong: true });
    expect(delaysBetween(again)).toEqual([0]);
  });

  it('makes at most 1 + limit attempts (default limit 10), then throws the last error', async () => {
    // Retry-After: 0 spends none of the time budget, so only the limit stops it.
    const now = () => HttpResponse.json(unavailableBody, { status: 503, headers: { 'retry-after': '0' } });
    const times = sequence('get', '/v1/test/ping', [now]);
    const error = await settle(createTransport({ url: apiUrl }).call(publicGetRoute));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 'service_unavailable', status: 503 });
    expect(times).toHaveLength(11);

    const limited = sequence('get', '/v1/test/ping', [now]);
    await settle(createTransport({ url: apiUrl, retry: { limit: 2 } }).call(publicGetRoute));
    expect(limited).toHaveLength(3);
  });

  for (const status of [408, 429, 502, 503, 504]) {
    it(`retries ${status}`, async () => {
      const times = sequence('get', '/v1/test/ping', [() => new HttpResponse(null, { status }), pong]);
      expect(await settle(createTransport({ url: apiUrl }).call(publicGetRoute))).toEqual({ pong: true });
      expect(times).toHaveLength(2);
    });
  }

  for (const status of [400, 401, 404, 409, 500, 501]) {
    it(`does not retry ${status}`, async () => {
      const times = sequence('get', '/v1/test/ping', [() => new HttpResponse(null, { status }), pong]);
      await settle(createTransport({ url: apiUrl }).call(publicGetRoute));
      expect(times).toHaveLength(1);
    });
  }

  it('retries a network error, and gives up with NetworkError once the budget is spent', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const times = sequence('get', '/v1/test/ping', [() => HttpResponse.error()]);
    const error = await settle(createTransport({ url: apiUrl }).call(publicGetRoute));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'network_error' });
    // 250, 500, 1000, 2000, 4000, then 5000 cut to the 2250 left of the 10 s budget: the last
    // attempt is at the budget's end, not past it, and none follows.
    expect(delaysBetween(times)).toEqual([250, 500, 1000, 2000, 4000, 2250]);
    expect(times.at(-1)).toBe(10_000);
  });

  it('keeps the X-Request-Id across attempts and changes it between calls', async () => {
    sequence('get', '/v1/test/ping', [unavailable, pong]);
    const transport = createTransport({ url: apiUrl });
    await settle(transport.call(publicGetRoute));
    await settle(transport.call(publicGetRoute));
    const ids = mock.requests.map((r) => r.headers.get('x-request-id'));
    expect(ids).toHaveLength(3);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('can be turned off', async () => {
    const times = sequence('get', '/v1/test/ping', [unavailable, pong]);
    await settle(createTransport({ url: apiUrl, retry: false }).call(publicGetRoute));
    expect(times).toHaveLength(1);
  });
});

describe('Retry-After', () => {
  it('in seconds: waits exactly that long', async () => {
    const times = sequence('get', '/v1/test/ping', [
      () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '3' } }),
      pong,
    ]);
    expect(await settle(createTransport({ url: apiUrl }).call(publicGetRoute))).toEqual({ pong: true });
    expect(delaysBetween(times)).toEqual([3000]);
  });

  it('as an HTTP date: waits until then', async () => {
    const at = new Date(start + 5000).toUTCString();
    const times = sequence('get', '/v1/test/ping', [
      () => new HttpResponse(null, { status: 503, headers: { 'retry-after': at } }),
      pong,
    ]);
    expect(await settle(createTransport({ url: apiUrl }).call(publicGetRoute))).toEqual({ pong: true });
    expect(delaysBetween(times)).toEqual([5000]);
  });

  it('a date in the past retries at once', async () => {
    const at = new Date(start - 60_000).toUTCString();
    const times = sequence('get', '/v1/test/ping', [
      () => new HttpResponse(null, { status: 503, headers: { 'retry-after': at } }),
      pong,
    ]);
    await settle(createTransport({ url: apiUrl }).call(publicGetRoute));
    expect(delaysBetween(times)).toEqual([0]);
  });

  it('longer than the cap: fails at once with retryAfter, instead of hanging', async () => {
    const times = sequence('get', '/v1/test/ping', [
      () =>
        HttpResponse.json(
          { error: { code: 'rate_limited', message: 'slow down', requestId: 'r' } },
          { status: 429, headers: { 'retry-after': '120' } },
        ),
    ]);
    const error = await settle(createTransport({ url: apiUrl }).call(publicGetRoute));
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(120);
    expect(times).toHaveLength(1);

    // Within a budget that allows it, the cap still applies on its own…
    const overCap = sequence('get', '/v1/test/ping', [
      () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '120' } }),
      pong,
    ]);
    const roomy = createTransport({ url: apiUrl, retry: { maxElapsed: 300_000 } });
    expect(await settle(roomy.call(publicGetRoute))).toBeInstanceOf(RateLimitError);
    expect(overCap).toHaveLength(1);

    // …and raising both lets the SDK wait that long.
    const capped = sequence('get', '/v1/test/ping', [
      () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '120' } }),
      pong,
    ]);
    expect(
      await settle(
        createTransport({ url: apiUrl, retry: { maxRetryAfter: 180_000, maxElapsed: 300_000 } }).call(publicGetRoute),
      ),
    ).toEqual({ pong: true });
    expect(delaysBetween(capped)).toEqual([120_000]);
  });

  it('an unreadable value falls back to backoff', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const times = sequence('get', '/v1/test/ping', [
      () => new HttpResponse(null, { status: 503, headers: { 'retry-after': 'soon' } }),
      pong,
    ]);
    await settle(createTransport({ url: apiUrl }).call(publicGetRoute));
    expect(delaysBetween(times)).toEqual([250]);
  });
});

describe('the retry budget (maxElapsed, default 10 s)', () => {
  /** 503 with Retry-After: 1 (what the server answers while its database is down) until `downMs` has passed. */
  const outage = (method: 'get' | 'post', path: string, downMs: number, up: () => Response) => {
    const times: number[] = [];
    mock.use(
      http[method](`${apiUrl}${path}`, () => {
        times.push(Date.now() - start);
        return Date.now() - start < downMs
          ? HttpResponse.json(unavailableBody, { status: 503, headers: { 'retry-after': '1' } })
          : up();
      }),
    );
    return times;
  };
  const charged = () => HttpResponse.json({ charged: 5 });

  it('rides out a 5 s outage: a keyed write succeeds, sent with one Idempotency-Key', async () => {
    const times = outage('post', '/v1/test/charges', 5_000, charged);
    const transport = createTransport({ url: apiUrl });
    expect(await settle(transport.call(idempotentPostRoute, { amount: 5 }))).toEqual({ charged: 5 });
    expect(times).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(new Set(mock.requests.map((r) => r.headers.get('idempotency-key'))).size).toBe(1);
  });

  it('rides out a 5 s outage for a sql-like route keyed by the caller, and not without a key', async () => {
    const keyedRoute = defineRoute<{ request: never; response: never }>({
      name: 'test.keyed',
      method: 'POST',
      path: '/v1/test/keyed',
      auth: 'none',
      idempotent: 'when-keyed',
    });
    const keyed = outage('post', '/v1/test/keyed', 5_000, pong);
    const transport = createTransport({ url: apiUrl });
    expect(await settle(transport.call(keyedRoute, {} as never, { idempotencyKey: 'row-1' }))).toEqual({ pong: true });
    expect(keyed).toHaveLength(6);

    vi.setSystemTime(start);
    const unkeyed = outage('post', '/v1/test/keyed', 5_000, pong);
    expect(await settle(transport.call(keyedRoute, {} as never))).toBeInstanceOf(ServerError);
    expect(unkeyed).toHaveLength(1);
  });

  it('an unkeyed write is not retried through an outage', async () => {
    const times = outage('post', '/v1/test/things', 5_000, () => HttpResponse.json({ id: '1', name: 'x' }));
    const error = await settle(createTransport({ url: apiUrl }).call(createThingRoute, { name: 'x' }));
    expect(error).toMatchObject({ code: 'service_unavailable', status: 503 });
    expect(times).toHaveLength(1);
  });

  it('a permanent outage fails when the budget is spent: the last attempt at 10 s, none after', async () => {
    const times = outage('post', '/v1/test/charges', Number.POSITIVE_INFINITY, charged);
    const error = await settle(createTransport({ url: apiUrl }).call(idempotentPostRoute, { amount: 5 }));
    expect(error).toMatchObject({ code: 'service_unavailable', status: 503 });
    expect(times).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    // It failed as the last answer came, without waiting again.
    expect(Date.now() - start).toBe(10_000);
  });

  it('a Retry-After that would end past the budget fails at once, without waiting', async () => {
    const times = sequence('get', '/v1/test/ping', [
      () =>
        HttpResponse.json(
          { error: { code: 'rate_limited', message: 'slow down', requestId: 'r' } },
          { status: 429, headers: { 'retry-after': '3' } },
        ),
    ]);
    const error = await settle(createTransport({ url: apiUrl }).call(publicGetRoute));
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(3);
    // At 9 s, 1 s is left: a 3 s wait would end past it.
    expect(times).toEqual([0, 3000, 6000, 9000]);
    expect(Date.now() - start).toBe(9000);
  });

  it('is an option: a shorter budget gives up sooner, a longer one rides out a longer outage', async () => {
    const short = outage('get', '/v1/test/ping', 5_000, pong);
    const error = await settle(createTransport({ url: apiUrl, retry: { maxElapsed: 3000 } }).call(publicGetRoute));
    expect(error).toBeInstanceOf(ServerError);
    expect(short).toEqual([0, 1000, 2000, 3000]);

    vi.setSystemTime(start);
    const long = outage('get', '/v1/test/ping', 15_000, pong);
    const transport = createTransport({ url: apiUrl, retry: { maxElapsed: 20_000, limit: 20 } });
    expect(await settle(transport.call(publicGetRoute))).toEqual({ pong: true });
    expect(long).toHaveLength(16);
  });

  it('`retry: false` still never retries', async () => {
    const times = outage('post', '/v1/test/charges', 5_000, charged);
    await settle(createTransport({ url: apiUrl, retry: false }).call(idempotentPostRoute, { amount: 5 }));
    expect(times).toHaveLength(1);
  });
});

describe('non-idempotent calls', () => {
  it('a plain POST is never retried: not on 503, not on 429, not on a network error', async () => {
    for (const answer of [
      unavailable,
      () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '1' } }),
      () => HttpResponse.error(),
    ]) {
      const times = sequence('post', '/v1/test/things', [answer, () => HttpResponse.json({ id: '1', name: 'x' })]);
      const error = await settle(createTransport({ url: apiUrl }).call(createThingRoute, { name: 'x' }));
      expect(error).toBeInstanceOf(Error);
      expect(times).toHaveLength(1);
      expect(mock.requests.at(-1)?.headers.get('idempotency-key')).toBeNull();
    }
  });

  it('a POST the table marks idempotent is retried with one Idempotency-Key on every attempt', async () => {
    const times = sequence('post', '/v1/test/charges', [
      unavailable,
      unavailable,
      () => HttpResponse.json({ charged: 5 }),
    ]);
    expect(await settle(createTransport({ url: apiUrl }).call(idempotentPostRoute, { amount: 5 }))).toEqual({
      charged: 5,
    });
    expect(times).toHaveLength(3);
    const keys = mock.requests.map((r) => r.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it('a route deduplicated only when keyed (sql) is retried with the caller’s key, and not without one', async () => {
    const keyedRoute = defineRoute<{ request: never; response: never }>({
      name: 'test.keyed',
      method: 'POST',
      path: '/v1/test/keyed',
      auth: 'none',
      idempotent: 'when-keyed',
    });
    const keyed = sequence('post', '/v1/test/keyed', [() => HttpResponse.error(), unavailable, pong]);
    const transport = createTransport({ url: apiUrl });
    expect(await settle(transport.call(keyedRoute, {} as never, { idempotencyKey: 'stmt-7' }))).toEqual({ pong: true });
    expect(keyed).toHaveLength(3);
    expect(mock.requests.map((r) => r.headers.get('idempotency-key'))).toEqual(['stmt-7', 'stmt-7', 'stmt-7']);

    const unkeyed = sequence('post', '/v1/test/keyed', [() => HttpResponse.error(), pong]);
    expect(await settle(transport.call(keyedRoute, {} as never))).toBeInstanceOf(NetworkError);
    expect(unkeyed).toHaveLength(1);
    expect(mock.requests.at(-1)?.headers.get('idempotency-key')).toBeNull();
  });

  it('takes the caller’s Idempotency-Key when given', async () => {
    sequence('post', '/v1/test/charges', [() => HttpResponse.json({ charged: 1 })]);
    await settle(
      createTransport({ url: apiUrl }).call(idempotentPostRoute, { amount: 1 }, { idempotencyKey: 'order-42' }),
    );
    expect(mock.requests[0]?.headers.get('idempotency-key')).toBe('order-42');
  });
});
