import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTransport, NetworkError, ProtocolError } from '@plinth/core';
import { queryRoute } from '@plinth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Node's own fetch (undici), not msw's: a service-key POST goes out with redirect mode `error`,
// and this is how undici rejects a redirect in that mode (a cause other than msw's).
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';
const seen: { method: string; url: string; body: string }[] = [];
let answer: (response: http.ServerResponse) => void = (response) => response.writeHead(500).end();
const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', body: Buffer.concat(chunks).toString() });
    answer(response);
  });
});
let url = '';

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("a service-key POST on Node's fetch", () => {
  it('reads its answer as usual', async () => {
    seen.length = 0;
    answer = (response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"rows":[{"id":1}],"rowCount":1}');
    const transport = createTransport({ url, serviceKey });
    await expect(transport.call(queryRoute, { table: 'posts', op: 'select' })).resolves.toEqual({
      rows: [{ id: 1 }],
      rowCount: 1,
    });
    expect(seen).toEqual([{ method: 'POST', url: '/v1/query', body: '{"table":"posts","op":"select"}' }]);
  });

  it('does not follow a redirect, and reports it with its status and location', async () => {
    seen.length = 0;
    answer = (response) => response.writeHead(308, { location: 'https://elsewhere.test/v1/query' }).end();
    const transport = createTransport({ url, serviceKey, retry: false });
    const error = await transport.call(queryRoute, { table: 'posts', op: 'select' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'invalid_response', status: 308 });
    expect((error as Error).message).toContain('https://elsewhere.test/v1/query');
    // Refused in mode `error`, then asked again in mode `manual` to read the redirect.
    expect(seen.map((request) => request.url)).toEqual(['/v1/query', '/v1/query']);
  });

  it('reports a refused connection as a network error, asked only once', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const transport = createTransport({ url: `http://127.0.0.1:${port}`, serviceKey, retry: false });
    await expect(transport.call(queryRoute, { table: 'posts', op: 'select' })).rejects.toBeInstanceOf(NetworkError);
  });
});
