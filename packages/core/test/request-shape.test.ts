import { createTransport, ProtocolError, ValidationError } from '@plinth/core';
import { healthRoute, routeTable } from '@plinth/protocol';
import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import {
  createThingRoute,
  pathParamRoute,
  presignedRoute,
  publicGetRoute,
  serviceRoute,
  sessionRoute,
  ticketRoute,
} from '../../../test/fixtures/routes.js';

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';

describe('request shape', () => {
  it('GET input goes to the query string, arrays repeated, undefined left out', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/things`, () => HttpResponse.json({ things: [] })));
    await createTransport({ url: apiUrl, serviceKey }).call(serviceRoute, { limit: 5, tag: ['a', 'b c'] });
    const url = new URL(mock.requests[0]?.url ?? '');
    expect(url.pathname).toBe('/v1/test/things');
    expect(url.searchParams.get('limit')).toBe('5');
    expect(url.searchParams.getAll('tag')).toEqual(['a', 'b c']);
    expect(mock.requests[0]?.headers.get('content-type')).toBeNull();
  });

  it('POST input goes in a JSON body', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/test/things`, async ({ request }) =>
        HttpResponse.json({ id: '1', ...((await request.json()) as object) }),
      ),
    );
    const thing = await createTransport({ url: apiUrl }).call(createThingRoute, { name: 'lamp' });
    expect(thing).toEqual({ id: '1', name: 'lamp' });
    expect(mock.requests[0]?.headers.get('content-type')).toBe('application/json');
    expect(await mock.requests[0]?.json()).toEqual({ name: 'lamp' });
  });

  it('path parameters are filled from the input, encoded, and not repeated in the query', async () => {
    mock.use(http.delete(`${apiUrl}/v1/test/things/:id`, () => HttpResponse.json({ deleted: true })));
    await createTransport({ url: apiUrl, serviceKey }).call(pathParamRoute, { id: 'a/b?c' });
    const url = new URL(mock.requests[0]?.url ?? '');
    expect(url.pathname).toBe('/v1/test/things/a%2Fb%3Fc');
    expect(url.search).toBe('');
  });

  it('a base URL with a path prefix keeps it', async () => {
    mock.use(http.get('https://example.test/plinth/v1/test/ping', () => HttpResponse.json({ pong: true })));
    await createTransport({ url: 'https://example.test/plinth/' }).call(publicGetRoute);
    expect(mock.requests[0]?.url).toBe('https://example.test/plinth/v1/test/ping');
  });

  it('sends the publishable key, configured headers and per-call headers', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: true })));
    await createTransport({ url: apiUrl, publishableKey: 'pk_test', headers: { 'x-app': 'demo' } }).call(
      publicGetRoute,
      {},
      { headers: { 'x-call': '1' } },
    );
    const headers = mock.requests[0]?.headers;
    expect(headers?.get('apikey')).toBe('pk_test');
    expect(headers?.get('x-app')).toBe('demo');
    expect(headers?.get('x-call')).toBe('1');
    expect(headers?.get('authorization')).toBeNull();
  });

  it('session routes carry the user’s access token; ticket routes carry the ticket', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/test/whoami`, () => HttpResponse.json({ id: 'u1' })),
      http.get(`${apiUrl}/v1/test/stream`, () => HttpResponse.json({ ok: true })),
    );
    const transport = createTransport({ url: apiUrl, serviceKey });
    await transport.call(sessionRoute, {}, { accessToken: 'eyJ.user.token' });
    await transport.call(ticketRoute, {}, { ticket: 'tk_1' });
    expect(mock.requests[0]?.headers.get('authorization')).toBe('Bearer eyJ.user.token');
    expect(mock.requests[1]?.headers.get('authorization')).toBe('Ticket tk_1');
  });

  it('uses the fetch it is given', async () => {
    const fetch = vi.fn(async () => Response.json({ pong: true }));
    await expect(createTransport({ url: apiUrl, fetch }).call(publicGetRoute)).resolves.toEqual({ pong: true });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(mock.requests).toHaveLength(0);
  });

  it('a 204 answer reads as undefined', async () => {
    mock.use(http.put('https://bucket.storage.test/u', () => new HttpResponse(null, { status: 204 })));
    await expect(
      createTransport({ url: apiUrl }).call(
        presignedRoute,
        { content: 'x' },
        { presignedUrl: 'https://bucket.storage.test/u' },
      ),
    ).resolves.toBeUndefined();
  });
});

describe('the wire contract is checked on both sides of the call', () => {
  it('invalid input is refused before any request, naming the field', async () => {
    const error = await createTransport({ url: apiUrl })
      .call(createThingRoute, { name: '' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_request', details: { field: 'name' } });
    expect((error as Error).message).toMatch(
      /test\.createThing\(\) was called with invalid input: name: must be at least 1/,
    );
    expect(mock.requests).toHaveLength(0);
  });

  it('an answer that does not match the response schema is a ProtocolError naming the field', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: 'yes' })));
    const error = await createTransport({ url: apiUrl })
      .call(publicGetRoute)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'invalid_response', details: { field: 'pong' } });
    expect((error as Error).message).toContain('pong: expected boolean');
  });

  it('a per-route import carries no schemas (no zod in browser bundles); its route-table twin is checked', async () => {
    mock.use(http.get(`${apiUrl}/v1/health`, () => HttpResponse.json({ status: 'ok' })));
    const transport = createTransport({ url: apiUrl });
    expect(healthRoute.schemas).toBeUndefined();
    await expect(transport.call(healthRoute)).resolves.toEqual({ status: 'ok' });
    const checked = routeTable.find((route) => route.name === healthRoute.name);
    expect(checked?.path).toBe(healthRoute.path);
    const error = await transport.call(checked as typeof healthRoute).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_response', details: { field: 'version' } });
  });

  it('a 200 that is not JSON is a ProtocolError that suggests checking the url', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.html('<h1>Welcome to nginx</h1>')));
    const error = await createTransport({ url: apiUrl })
      .call(publicGetRoute)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/not JSON \(text\/html/);
  });
});
