import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbortError, createTransport, NetworkError, ProtocolError, TimeoutError } from '@plinth/core';
import { healthRoute, queryRoute } from '@plinth/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordHttpClients } from '../../../test/fixtures/http-clients.js';

// Service-key calls on Node go through node:http (docs/decisions/0009), which production uses.
// No msw here: the global fetch is Node's own, so this file runs the path an app's server runs.
// Which client sent a request is read from Node's diagnostics channels: node:http publishes
// `http.client.request.start`, Node's fetch (undici) `undici:request:create`.
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';
const select = { table: 'posts', op: 'select' } as const;
const rowsAnswer = '{"rows":[{"id":1}],"rowCount":1}';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let answer: (response: http.ServerResponse, request: Seen) => void = (response) => response.writeHead(500).end();
let connections = 0;
const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const one = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString(),
    };
    seen.push(one);
    answer(response, one);
  });
});
server.on('connection', () => connections++);
let url = '';

const clients = recordHttpClients();

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  clients.length = 0;
  answer = (response) => response.writeHead(200, { 'content-type': 'application/json' }).end(rowsAnswer);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('a service-key call on Node', () => {
  it('goes through node:http with its whole body and a Content-Length, and reads the answer', async () => {
    const transport = createTransport({ url, serviceKey });
    await expect(transport.call(queryRoute, select)).resolves.toEqual({ rows: [{ id: 1 }], rowCount: 1 });
    expect(clients).toEqual(['node:http']);
    expect(seen).toHaveLength(1);
    const [request] = seen as [Seen];
    expect(request).toMatchObject({ method: 'POST', url: '/v1/query', body: '{"table":"posts","op":"select"}' });
    expect(request.headers['content-length']).toBe(String(request.body.length));
    expect(request.headers['transfer-encoding']).toBeUndefined();
    expect(request.headers.authorization).toBe(`Bearer ${serviceKey}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(request.headers['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('reads an answer that arrives in many pieces, with characters split across them', async () => {
    const name = 'ü€😀'.repeat(5_000);
    answer = (response) => {
      const bytes = Buffer.from(JSON.stringify({ rows: [{ name }], rowCount: 1 }));
      response.writeHead(200, { 'content-type': 'application/json' });
      // Odd-sized pieces, so multi-byte characters are cut in two.
      for (let at = 0; at < bytes.length; at += 7) response.write(bytes.subarray(at, at + 7));
      response.end();
    };
    await expect(createTransport({ url, serviceKey }).call(queryRoute, select)).resolves.toEqual({
      rows: [{ name }],
      rowCount: 1,
    });
  });

  it('keeps the connection for the next call', async () => {
    const transport = createTransport({ url, serviceKey });
    await transport.call(queryRoute, select);
    const before = connections;
    await transport.call(queryRoute, select);
    await transport.call(queryRoute, select);
    expect(connections).toBe(before);
  });

  it('does not follow a redirect, and reports it with its status and location, asking once', async () => {
    answer = (response) => response.writeHead(308, { location: 'https://elsewhere.test/v1/query' }).end();
    const transport = createTransport({ url, serviceKey });
    const error = await transport.call(queryRoute, select).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'invalid_response', status: 308 });
    expect((error as Error).message).toContain('https://elsewhere.test/v1/query');
    expect(seen.map((request) => request.url)).toEqual(['/v1/query']);
  });

  it('maps an error answer to its PlinthError, with the request id', async () => {
    answer = (response, request) =>
      response.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            code: 'invalid_request',
            message: 'table: no such table',
            details: { field: 'table' },
            requestId: request.headers['x-request-id'],
          },
        }),
      );
    const error = await createTransport({ url, serviceKey })
      .call(queryRoute, select)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'invalid_request',
      status: 400,
      requestId: seen[0]?.headers['x-request-id'],
      details: { field: 'table' },
    });
  });

  it('reports an answer that is not JSON as a protocol error', async () => {
    answer = (response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>a proxy page</html>');
    const error = await createTransport({ url, serviceKey })
      .call(queryRoute, select)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toContain('text/html');
  });

  it('retries a 503 with Retry-After with the same idempotency key and request id', async () => {
    answer = (response) => {
      answer = (next) => next.writeHead(200, { 'content-type': 'application/json' }).end(rowsAnswer);
      response
        .writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'unavailable', message: 'busy', requestId: 'r' } }));
    };
    await expect(createTransport({ url, serviceKey }).call(queryRoute, select)).resolves.toEqual({
      rows: [{ id: 1 }],
      rowCount: 1,
    });
    expect(seen).toHaveLength(2);
    expect(seen[1]?.headers['idempotency-key']).toBe(seen[0]?.headers['idempotency-key']);
    expect(seen[1]?.headers['x-request-id']).toBe(seen[0]?.headers['x-request-id']);
    expect(clients).toEqual(['node:http', 'node:http']);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const transport = createTransport({ url: `http://127.0.0.1:${port}`, serviceKey, retry: false });
    const error = await transport.call(queryRoute, select).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('reports a connection that closes halfway through the answer as a network error', async () => {
    answer = (response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"rows":[');
      setTimeout(() => response.socket?.destroy(), 10);
    };
    const error = await createTransport({ url, serviceKey, retry: false })
      .call(queryRoute, select)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'network_error' });
  });

  it('times out when no answer comes, and when the body stalls halfway', async () => {
    answer = () => {};
    const silent = await createTransport({ url, serviceKey, timeout: 100, retry: false })
      .call(queryRoute, select)
      .catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(TimeoutError);
    answer = (response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"rows":[');
    };
    const stalled = await createTransport({ url, serviceKey, timeout: 100, retry: false })
      .call(queryRoute, select)
      .catch((e: unknown) => e);
    expect(stalled).toBeInstanceOf(TimeoutError);
    expect(clients).toEqual(['node:http', 'node:http']);
  });

  it('stops when the caller aborts', async () => {
    answer = () => {};
    const controller = new AbortController();
    const call = createTransport({ url, serviceKey }).call(queryRoute, select, { signal: controller.signal });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(AbortError);
  });
});

describe('fetch is used instead', () => {
  it('where the global fetch was replaced after the SDK loaded (a mock, msw, instrumentation)', async () => {
    const original = globalThis.fetch;
    const replaced = vi.fn((input: RequestInfo | URL, init?: RequestInit) => original(input, init));
    vi.stubGlobal('fetch', replaced);
    await createTransport({ url, serviceKey }).call(queryRoute, select);
    expect(replaced).toHaveBeenCalledTimes(1);
    expect(replaced.mock.calls[0]?.[1]?.redirect).toBe('manual');
  });

  it('with a custom fetch, and with hooks', async () => {
    const custom = vi.fn((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
    await createTransport({ url, serviceKey, fetch: custom }).call(queryRoute, select);
    expect(custom).toHaveBeenCalledTimes(1);
    const hooked: string[] = [];
    await createTransport({
      url,
      serviceKey,
      hooks: { beforeRequest: [(request) => void hooked.push(request.redirect)] },
    }).call(queryRoute, select);
    expect(hooked).toEqual(['manual']);
    expect(clients).toEqual(['fetch', 'fetch']);
  });

  it('for calls without the service key', async () => {
    answer = (response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","version":"1.0.0"}');
    await createTransport({ url, publishableKey: 'pk_test_x' }).call(healthRoute);
    expect(clients).toEqual(['fetch']);
  });
});
