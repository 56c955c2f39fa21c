import {
  type AdminClient,
  createAdminClient,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  webhookEventTypes,
} from '@plinth/admin';
import { createTransport, NotFoundError, PermissionError, PlinthError, ValidationError } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

// admin.webhooks against msw: the request each method makes (method, path, query or body) and
// what it resolves to. Against the real server: packages/server/test/webhooks/.

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';
const admin = (): AdminClient =>
  createAdminClient(createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey, retry: false }));

const endpointId = 'whe_01JF8X3ZQ4M7N2P5R6S8T9V0WA';
const deliveryId = 'msg_01JF8Y3ZQ4M7N2P5R6S8T9V0WB';
const endpoint = (n: number): WebhookEndpoint => ({
  id: `whe_${String(n).padStart(26, '0')}`,
  url: `https://hooks${n}.example.com/plinth`,
  events: ['user.created'],
  description: '',
  enabled: true,
  disabledReason: null,
  failingSince: null,
  previousSecretExpiresAt: null,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});
const delivery: WebhookDelivery = {
  id: deliveryId,
  endpointId,
  eventType: 'user.created',
  eventId: '42',
  status: 'failed',
  attempts: 8,
  nextAttemptAt: null,
  lastStatus: 500,
  lastExcerpt: 'oops',
  lastDurationMs: 12,
  createdAt: '2026-12-01T00:00:00.000Z',
  deliveredAt: null,
};
const attempt: WebhookAttempt = {
  attempt: 1,
  at: '2026-12-01T00:00:00.000Z',
  status: null,
  error: 'timeout',
  excerpt: 'no answer in 15 s',
  durationMs: 15000,
};
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// The one request the call made: a second one (a retry, a stray page) fails the test.
const onlyRequest = (): Request => {
  expect(mock.requests).toHaveLength(1);
  return mock.requests[0] as Request;
};
const query = (request: Request) => Object.fromEntries(new URL(request.url).searchParams);
const pathOf = (request: Request) => new URL(request.url).pathname;

describe('admin.webhooks', () => {
  it('create() POSTs the endpoint with the service key and an idempotency key, and resolves to { endpoint, secret }', async () => {
    mock.use(http.post(`${apiUrl}/v1/admin/webhooks`, () => HttpResponse.json({ endpoint: endpoint(1), secret })));
    const created = await admin().webhooks.create({
      url: 'https://hooks1.example.com/plinth',
      events: ['user.created', 'row.insert'],
      description: 'CRM sync',
      enabled: undefined,
    });
    expect(created).toEqual({ endpoint: endpoint(1), secret });
    const request = onlyRequest();
    expect(request.method).toBe('POST');
    expect(request.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
    expect(request.headers.get('idempotency-key')).toBeTruthy();
    expect(await request.json()).toEqual({
      url: 'https://hooks1.example.com/plinth',
      events: ['user.created', 'row.insert'],
      description: 'CRM sync',
    });
  });

  it('create() takes webhookEventTypes as it is (a readonly list) and sends it as an array', async () => {
    mock.use(http.post(`${apiUrl}/v1/admin/webhooks`, () => HttpResponse.json({ endpoint: endpoint(1), secret })));
    await admin().webhooks.create({
      url: 'https://hooks1.example.com/plinth',
      events: webhookEventTypes,
      enabled: false,
    });
    expect(await onlyRequest().json()).toEqual({
      url: 'https://hooks1.example.com/plinth',
      events: [...webhookEventTypes],
      enabled: false,
    });
  });

  it('list() sends only the options given, in the query, and resolves to the page', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/webhooks`, () =>
        HttpResponse.json({ endpoints: [endpoint(1), endpoint(2)], nextCursor: 'c1' }),
      ),
    );
    expect(await admin().webhooks.list({ limit: 2, cursor: undefined })).toEqual({
      endpoints: [endpoint(1), endpoint(2)],
      nextCursor: 'c1',
    });
    const request = onlyRequest();
    expect(request.method).toBe('GET');
    expect(query(request)).toEqual({ limit: '2' });
  });

  it('listAll() follows nextCursor through 3 pages and yields every endpoint once', async () => {
    const pages: Record<string, { endpoints: WebhookEndpoint[]; nextCursor: string | null }> = {
      '': { endpoints: [endpoint(1), endpoint(2)], nextCursor: 'c1' },
      c1: { endpoints: [endpoint(3), endpoint(4)], nextCursor: 'c2' },
      c2: { endpoints: [endpoint(5)], nextCursor: null },
    };
    mock.use(
      http.get(`${apiUrl}/v1/admin/webhooks`, ({ request }) =>
        HttpResponse.json(pages[new URL(request.url).searchParams.get('cursor') ?? '']),
      ),
    );
    const seen: string[] = [];
    for await (const found of admin().webhooks.listAll({ pageSize: 2 })) seen.push(found.id);
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => endpoint(n).id));
    expect(mock.requests.map(query)).toEqual([
      { limit: '2' },
      { limit: '2', cursor: 'c1' },
      { limit: '2', cursor: 'c2' },
    ]);
  });

  it('listAll() makes no request until iterated, asks for pages of 1000, and stops when the loop breaks', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/webhooks`, () =>
        HttpResponse.json({ endpoints: [endpoint(1), endpoint(2)], nextCursor: 'more' }),
      ),
    );
    const all = admin().webhooks.listAll();
    expect(mock.requests).toHaveLength(0);
    for await (const found of all) {
      expect(found.id).toBe(endpoint(1).id);
      break;
    }
    expect(query(onlyRequest())).toEqual({ limit: '1000' });
  });

  it('get() GETs the endpoint by id and resolves to it', async () => {
    mock.use(http.get(`${apiUrl}/v1/admin/webhooks/:id`, () => HttpResponse.json({ endpoint: endpoint(1) })));
    expect(await admin().webhooks.get(endpointId)).toEqual(endpoint(1));
    const request = onlyRequest();
    expect(request.method).toBe('GET');
    expect(pathOf(request)).toBe(`/v1/admin/webhooks/${endpointId}`);
    expect(query(request)).toEqual({});
  });

  it('update() PATCHes only the changes given, the id in the path only, and resolves to the endpoint', async () => {
    mock.use(
      http.patch(`${apiUrl}/v1/admin/webhooks/:id`, () =>
        HttpResponse.json({ endpoint: { ...endpoint(1), enabled: true } }),
      ),
    );
    // A changes object carrying other keys (an id from a request body) cannot redirect the update.
    const changes = { enabled: true, events: ['*'], description: undefined, id: 'whe_someoneElse' } as {
      enabled: boolean;
      events: ['*'];
    };
    expect(await admin().webhooks.update(endpointId, changes)).toEqual({ ...endpoint(1), enabled: true });
    const request = onlyRequest();
    expect(request.method).toBe('PATCH');
    expect(pathOf(request)).toBe(`/v1/admin/webhooks/${endpointId}`);
    expect(await request.json()).toEqual({ enabled: true, events: ['*'] });
  });

  it('delete() DELETEs the endpoint and resolves to { deleted }', async () => {
    mock.use(http.delete(`${apiUrl}/v1/admin/webhooks/:id`, () => HttpResponse.json({ deleted: false })));
    expect(await admin().webhooks.delete(endpointId)).toEqual({ deleted: false });
    const request = onlyRequest();
    expect(request.method).toBe('DELETE');
    expect(pathOf(request)).toBe(`/v1/admin/webhooks/${endpointId}`);
  });

  it('rotateSecret() POSTs to /rotate-secret and resolves to { endpoint, secret }', async () => {
    const rotated = { ...endpoint(1), previousSecretExpiresAt: '2026-12-02T00:00:00.000Z' };
    mock.use(
      http.post(`${apiUrl}/v1/admin/webhooks/:id/rotate-secret`, () =>
        HttpResponse.json({ endpoint: rotated, secret }),
      ),
    );
    expect(await admin().webhooks.rotateSecret(endpointId)).toEqual({ endpoint: rotated, secret });
    const request = onlyRequest();
    expect(request.method).toBe('POST');
    expect(pathOf(request)).toBe(`/v1/admin/webhooks/${endpointId}/rotate-secret`);
    expect(await request.json()).toEqual({});
  });

  it('deliveries() GETs the endpoint’s deliveries with only the filters given, in the query', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/webhooks/:id/deliveries`, () =>
        HttpResponse.json({ deliveries: [delivery], nextCursor: null }),
      ),
    );
    expect(await admin().webhooks.deliveries(endpointId, { status: 'failed', limit: 20, cursor: 'c9' })).toEqual({
      deliveries: [delivery],
      nextCursor: null,
    });
    const request = onlyRequest();
    expect(request.method).toBe('GET');
    expect(pathOf(request)).toBe(`/v1/admin/webhooks/${endpointId}/deliveries`);
    expect(query(request)).toEqual({ status: 'failed', limit: '20', cursor: 'c9' });
  });

  it('deliveries() without options sends an empty query', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/webhooks/:id/deliveries`, () =>
        HttpResponse.json({ deliveries: [], nextCursor: null }),
      ),
    );
    await admin().webhooks.deliveries(endpointId);
    expect(query(onlyRequest())).toEqual({});
  });

  it('getDelivery() GETs /webhook-deliveries/:deliveryId and resolves to { delivery, attempts }', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/webhook-deliveries/:deliveryId`, () =>
        HttpResponse.json({ delivery, attempts: [attempt] }),
      ),
    );
    expect(await admin().webhooks.getDelivery(deliveryId)).toEqual({ delivery, attempts: [attempt] });
    const request = onlyRequest();
    expect(request.method).toBe('GET');
    expect(pathOf(request)).toBe(`/v1/admin/webhook-deliveries/${deliveryId}`);
  });

  it('redeliver() POSTs to /redeliver and resolves to the delivery', async () => {
    const pending = { ...delivery, status: 'pending' as const, nextAttemptAt: '2026-12-01T00:00:01.000Z' };
    mock.use(
      http.post(`${apiUrl}/v1/admin/webhook-deliveries/:deliveryId/redeliver`, () =>
        HttpResponse.json({ delivery: pending }),
      ),
    );
    expect(await admin().webhooks.redeliver(deliveryId)).toEqual(pending);
    const request = onlyRequest();
    expect(request.method).toBe('POST');
    expect(pathOf(request)).toBe(`/v1/admin/webhook-deliveries/${deliveryId}/redeliver`);
  });

  // An id from user input must stay one path segment: `/`, `?`, `#` and `..` cannot reach another route.
  const hostile = 'whe_a/../b?c=d#e f';
  const encoded = 'whe_a%2F..%2Fb%3Fc%3Dd%23e%20f';
  it.each([
    ['get', 'GET', `/v1/admin/webhooks/${encoded}`, (c: AdminClient) => c.webhooks.get(hostile)],
    ['update', 'PATCH', `/v1/admin/webhooks/${encoded}`, (c: AdminClient) => c.webhooks.update(hostile, {})],
    ['delete', 'DELETE', `/v1/admin/webhooks/${encoded}`, (c: AdminClient) => c.webhooks.delete(hostile)],
    [
      'rotateSecret',
      'POST',
      `/v1/admin/webhooks/${encoded}/rotate-secret`,
      (c: AdminClient) => c.webhooks.rotateSecret(hostile),
    ],
    [
      'deliveries',
      'GET',
      `/v1/admin/webhooks/${encoded}/deliveries`,
      (c: AdminClient) => c.webhooks.deliveries(hostile),
    ],
    [
      'getDelivery',
      'GET',
      `/v1/admin/webhook-deliveries/${encoded}`,
      (c: AdminClient) => c.webhooks.getDelivery(hostile),
    ],
    [
      'redeliver',
      'POST',
      `/v1/admin/webhook-deliveries/${encoded}/redeliver`,
      (c: AdminClient) => c.webhooks.redeliver(hostile),
    ],
  ])('%s() URL-encodes its path parameter', async (_name, method, path, call) => {
    // Every request is answered 404: only the request's URL matters here.
    mock.use(
      http.all(`${apiUrl}/*`, () =>
        HttpResponse.json(
          { error: { code: 'not_found', message: 'No such endpoint.', details: {}, requestId: 'r1' } },
          { status: 404 },
        ),
      ),
    );
    await expect(call(admin())).rejects.toBeInstanceOf(NotFoundError);
    const request = onlyRequest();
    expect(request.method).toBe(method);
    expect(new URL(request.url).pathname).toBe(path);
    expect(new URL(request.url).search).toBe('');
  });

  it('server refusals come back as PlinthError subclasses carrying the server’s code, field and request id', async () => {
    const refusal = (code: string, field: string, status: number) =>
      HttpResponse.json(
        { error: { code, message: `${field}: refused`, details: { field }, requestId: `req_${code}` } },
        { status },
      );
    mock.use(
      http.post(`${apiUrl}/v1/admin/webhooks`, () => refusal('validation_failed', 'url', 400)),
      http.get(`${apiUrl}/v1/admin/webhooks/:id`, () => refusal('not_found', 'id', 404)),
      http.get(`${apiUrl}/v1/admin/webhooks`, () => refusal('insufficient_scope', 'scope', 403)),
    );
    const client = admin();
    const created = client.webhooks.create({ url: 'http://10.0.0.5/hook', events: ['*'] });
    await expect(created).rejects.toBeInstanceOf(ValidationError);
    await expect(created).rejects.toMatchObject({ code: 'validation_failed', status: 400, details: { field: 'url' } });
    const got = client.webhooks.get(endpointId);
    await expect(got).rejects.toBeInstanceOf(NotFoundError);
    await expect(got).rejects.toMatchObject({ code: 'not_found', status: 404, requestId: 'req_not_found' });
    const iterating = async () => {
      for await (const _ of client.webhooks.listAll()) {
        // unreachable: the first page is refused
      }
    };
    await expect(iterating()).rejects.toBeInstanceOf(PermissionError);
    await expect(iterating()).rejects.toMatchObject({ code: 'insufficient_scope' });
    await expect(client.webhooks.list()).rejects.toBeInstanceOf(PlinthError);
  });
});
