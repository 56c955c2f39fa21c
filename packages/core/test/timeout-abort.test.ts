import { AbortError, createTransport, TimeoutError } from '@plinth/core';
import { delay, HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { publicGetRoute } from '../../../test/fixtures/routes.js';

const mock = useMockServer();

beforeEach(() => {
  // Date too: calls that share a timeout signal join it by the clock.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const hang = () =>
  http.get(`${apiUrl}/v1/test/ping`, async () => {
    await delay('infinite');
    return HttpResponse.json({ pong: true });
  });

describe('timeout', () => {
  it('defaults to 30 s (at most 100 ms late), then fails with TimeoutError and is not retried', async () => {
    mock.use(hang());
    let settled = false;
    const outcome = createTransport({ url: apiUrl })
      .call(publicGetRoute)
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true;
      });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(settled).toBe(false);
    expect(mock.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(101);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'request_timeout', isAbort: false });
    expect((error as Error).message).toMatch(/within 30000 ms/);
    await vi.runAllTimersAsync();
    expect(mock.requests).toHaveLength(1);
  });

  it('is set per transport and per call', async () => {
    mock.use(hang());
    const transport = createTransport({ url: apiUrl, timeout: 5_000 });
    const first = transport.call(publicGetRoute).catch((e: unknown) => e);
    const second = transport.call(publicGetRoute, {}, { timeout: 1_000 }).catch((e: unknown) => e);
    // A call's own timeout is exact; the transport's may be up to 1 % late (here 50 ms).
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await second).toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(4_050);
    expect(await first).toBeInstanceOf(TimeoutError);
  });

  it('calls that share a timeout each get the whole timeout, and fail together once it has passed', async () => {
    mock.use(hang());
    const transport = createTransport({ url: apiUrl, timeout: 10_000 });
    const settled: string[] = [];
    const track = (name: string) =>
      transport
        .call(publicGetRoute)
        .catch((e: unknown) => e)
        .finally(() => settled.push(name));
    const first = track('first');
    await vi.advanceTimersByTimeAsync(99); // within the first call's window (1 %, here 100 ms): joins it
    const second = track('second');
    await vi.advanceTimersByTimeAsync(101); // past that window: a group of its own
    const third = track('third');
    await vi.advanceTimersByTimeAsync(9_899); // t = 10 099 ms: the second call has had its 10 s
    expect(settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1); // the first group's deadline: its window's end + 10 s
    expect(await first).toBeInstanceOf(TimeoutError);
    expect(await second).toBeInstanceOf(TimeoutError);
    expect(settled).toEqual(['first', 'second']);
    await vi.advanceTimersByTimeAsync(200);
    expect(await third).toBeInstanceOf(TimeoutError);
  });

  it('shares one signal among at most 32 calls', async () => {
    const signals: (AbortSignal | null | undefined)[] = [];
    const transport = createTransport({
      url: apiUrl,
      fetch: async (_input, init) => {
        signals.push(init?.signal);
        return Response.json({ pong: true });
      },
    });
    await Promise.all(Array.from({ length: 40 }, () => transport.call(publicGetRoute)));
    const groups = new Map<unknown, number>();
    for (const signal of signals) groups.set(signal, (groups.get(signal) ?? 0) + 1);
    expect(signals.every((signal) => signal instanceof AbortSignal)).toBe(true);
    expect([...groups.values()]).toEqual([32, 8]);
  });

  it('leaves no timer behind once a call has its answer', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: true })));
    const transport = createTransport({ url: apiUrl });
    await Promise.all([transport.call(publicGetRoute), transport.call(publicGetRoute)]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('covers a body that stalls after the headers arrive', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/test/ping`, () => {
        const stream = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"pong":'));
          },
        });
        return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } });
      }),
    );
    const outcome = createTransport({ url: apiUrl, timeout: 2_000 })
      .call(publicGetRoute)
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_020);
    expect(await outcome).toBeInstanceOf(TimeoutError);
  });
});

describe('abort', () => {
  it('the caller’s signal aborts an in-flight call with AbortError (isAbort)', async () => {
    mock.use(hang());
    const controller = new AbortController();
    const outcome = createTransport({ url: apiUrl })
      .call(publicGetRoute, {}, { signal: controller.signal })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    const error = await outcome;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ code: 'aborted', isAbort: true });
  });

  it('a signal aborted before the call rejects with AbortError', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: true })));
    const error = await createTransport({ url: apiUrl })
      .call(publicGetRoute, {}, { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
  });

  it('aborting during a retry backoff stops at once, without another attempt', async () => {
    mock.use(
      http.get(
        `${apiUrl}/v1/test/ping`,
        // 8 s: a wait that fits the default 10 s retry budget, so the call is waiting when aborted.
        () => new HttpResponse(null, { status: 503, headers: { 'retry-after': '8' } }),
      ),
    );
    const controller = new AbortController();
    const outcome = createTransport({ url: apiUrl })
      .call(publicGetRoute, {}, { signal: controller.signal })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    controller.abort();
    expect(await outcome).toBeInstanceOf(AbortError);
    await vi.runAllTimersAsync();
    expect(mock.requests).toHaveLength(1);
  });

  it('a caller abort is not mistaken for a timeout, nor a timeout for an abort', async () => {
    mock.use(hang());
    const controller = new AbortController();
    const transport = createTransport({ url: apiUrl, timeout: 1_000 });
    const timedOut = transport.call(publicGetRoute, {}, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await timedOut).toMatchObject({ name: 'TimeoutError', isAbort: false });
    expect(controller.signal.aborted).toBe(false);
  });
});
