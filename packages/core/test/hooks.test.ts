import { createTransport, type RequestContext } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { publicGetRoute } from '../../../test/fixtures/routes.js';

const mock = useMockServer();

describe('hooks', () => {
  it('run in order around the request: beforeRequest in array order, the fetch, afterResponse in array order', async () => {
    const log: string[] = [];
    mock.use(
      http.get(`${apiUrl}/v1/test/ping`, () => {
        log.push('server');
        return HttpResponse.json({ pong: true });
      }),
    );
    const transport = createTransport({
      url: apiUrl,
      hooks: {
        beforeRequest: [() => void log.push('before 1'), async () => void log.push('before 2')],
        afterResponse: [() => void log.push('after 1'), async () => void log.push('after 2')],
      },
    });
    await transport.call(publicGetRoute);
    expect(log).toEqual(['before 1', 'before 2', 'server', 'after 1', 'after 2']);
  });

  it('a beforeRequest hook may replace the request, and later hooks see the replacement', async () => {
    const seen: (string | null)[] = [];
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: true })));
    const transport = createTransport({
      url: apiUrl,
      hooks: {
        beforeRequest: [
          (request) => {
            const headers = new Headers(request.headers);
            headers.set('x-trace', 'abc');
            return new Request(request, { headers });
          },
          (request) => void seen.push(request.headers.get('x-trace')),
        ],
      },
    });
    await transport.call(publicGetRoute);
    expect(seen).toEqual(['abc']);
    expect(mock.requests[0]?.headers.get('x-trace')).toBe('abc');
  });

  it('an afterResponse hook may replace the response', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: false })));
    const transport = createTransport({
      url: apiUrl,
      hooks: { afterResponse: [() => HttpResponse.json({ pong: true })] },
    });
    await expect(transport.call(publicGetRoute)).resolves.toEqual({ pong: true });
  });

  it('run on every attempt, with the attempt number, route and request id', async () => {
    const contexts: RequestContext[] = [];
    let calls = 0;
    mock.use(
      http.get(`${apiUrl}/v1/test/ping`, () =>
        ++calls === 1
          ? new HttpResponse(null, { status: 503, headers: { 'retry-after': '0' } })
          : HttpResponse.json({ pong: true }),
      ),
    );
    const transport = createTransport({
      url: apiUrl,
      hooks: { beforeRequest: [(_, context) => void contexts.push(context)] },
    });
    await transport.call(publicGetRoute);
    expect(contexts.map((c) => c.attempt)).toEqual([1, 2]);
    expect(contexts.every((c) => c.route === publicGetRoute)).toBe(true);
    expect(contexts[0]?.requestId).toBe(mock.requests[0]?.headers.get('x-request-id'));
  });

  it('a hook that throws fails the call with its error', async () => {
    const transport = createTransport({
      url: apiUrl,
      hooks: {
        beforeRequest: [
          () => {
            throw new Error('hook broke');
          },
        ],
      },
    });
    await expect(transport.call(publicGetRoute)).rejects.toThrow(/hook broke/);
    expect(mock.requests).toHaveLength(0);
  });
});
