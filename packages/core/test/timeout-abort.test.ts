import { AbortError, createTransport, TimeoutError } from '@plinth/core';
import { delay, HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { publicGetRoute } from '../../../test/fixtures/routes.js';

const mock = useMockServer();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
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
  it('defaults to 30 s, then fails with TimeoutError and is not retried', async () => {
    mock.use(hang());
    const outcome = createTransport({ url: apiUrl })
      .call(publicGetRoute)
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(mock.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
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
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await second).toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(await first).toBeInstanceOf(TimeoutError);
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
    await vi.advanceTimersByTimeAsync(2_000);
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
        () => new HttpResponse(null, { status: 503, headers: { 'retry-after': '20' } }),
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
