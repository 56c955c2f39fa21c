import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// The webhook routes end to end over real sockets: endpoints made, changed and removed, every
// bad input a 4xx naming its field, private destinations refused unless the server allows
// them, and real events (a sign-up, a deletion, a revoked session) delivered by the running
// server's own loop to a receiver on this machine.

const received: { id: string; type: string; body: string }[] = [];
let receiver: Server;
let receiverUrl = '';

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ id: String(request.headers['webhook-id']), type: JSON.parse(body).type, body });
      response.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

const server = useTestServer({ webhooksAllowPrivate: true, webhooksTimeoutMs: 2_000 });
const strict = useTestServer({});
const call = jsonClient(() => server().url);
const callStrict = jsonClient(() => strict().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });

const create = async (body: unknown) => call('POST', '/v1/admin/webhooks', body, asService());

describe('webhook endpoints', () => {
  it('are made with a whsec_ secret shown once, listed, changed and removed', async () => {
    const made = await create({ url: receiverUrl, events: ['user.created'], description: 'CRM sync' });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const { endpoint, secret } = made.body as { endpoint: { id: string }; secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({ url: receiverUrl, events: ['user.created'], enabled: true, disabledReason: null });
    expect(
      JSON.stringify((await call('GET', `/v1/admin/webhooks/${endpoint.id}`, undefined, asService())).body),
    ).not.toContain(secret);
    const listed = await call('GET', '/v1/admin/webhooks?limit=1000', undefined, asService());
    expect((listed.body as { endpoints: { id: string }[] }).endpoints.map((e) => e.id)).toContain(endpoint.id);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const changed = await call(
      'PATCH',
      `/v1/admin/webhooks/${endpoint.id}`,
      { events: ['user.created', 'user.deleted'], enabled: false },
      asService(),
    );
    expect(changed.body).toMatchObject({ endpoint: { events: ['user.created', 'user.deleted'], enabled: false } });
    const rotated = await call('POST', `/v1/admin/webhooks/${endpoint.id}/rotate-secret`, {}, asService());
    expect((rotated.body as { secret: string }).secret).not.toBe(secret);
    expect(
      (rotated.body as { endpoint: { previousSecretExpiresAt: string } }).endpoint.previousSecretExpiresAt,
    ).toEqual(expect.any(String));
    const audit = await server().services.database.query<{ action: string; details: string }>(
      "SELECT action, details::text AS details FROM plinth.audit_log WHERE details->>'id' = $1 ORDER BY id",
      [endpoint.id],
    );
    expect(audit.map((row) => row.action)).toEqual([
      'admin.webhook_created',
      'admin.webhook_updated',
      'admin.webhook_secret_rotated',
    ]);
    expect(audit.map((row) => row.details).join()).not.toContain('whsec_');

    expect((await call('DELETE', `/v1/admin/webhooks/${endpoint.id}`, undefined, asService())).body).toEqual({
      deleted: true,
    });
    expect((await call('DELETE', `/v1/admin/webhooks/${endpoint.id}`, undefined, asService())).body).toEqual({
      deleted: false,
    });
    const gone = await call('GET', `/v1/admin/webhooks/${endpoint.id}`, undefined, asService());
    expect(gone.status).toBe(404);
  });

  it.each([
    ['no url', { events: ['user.created'] }, 'url'],
    ['a url that is not one', { url: 'not a url', events: ['user.created'] }, 'url'],
    ['ftp', { url: 'ftp://example.com/hooks', events: ['user.created'] }, 'url'],
    ['javascript:', { url: 'javascript:alert(1)', events: ['user.created'] }, 'url'],
    ['credentials in the url', { url: 'https://user:pass@example.com/hooks', events: ['user.created'] }, 'url'],
    ['an over-long url', { url: `https://example.com/${'a'.repeat(2100)}`, events: ['user.created'] }, 'url'],
    ['a url of the wrong type', { url: 42, events: ['user.created'] }, 'url'],
    ['no events', { url: 'https://example.com/hooks', events: [] }, 'events'],
    ['an unknown event', { url: 'https://example.com/hooks', events: ['user.created', 'order.paid'] }, 'events.1'],
    ['events as a string', { url: 'https://example.com/hooks', events: 'user.created' }, 'events'],
    ['nested events', { url: 'https://example.com/hooks', events: [['user.created']] }, 'events.0'],
    [
      'a long description',
      { url: 'https://example.com/hooks', events: ['*'], description: 'x'.repeat(501) },
      'description',
    ],
    ['enabled as a string', { url: 'https://example.com/hooks', events: ['*'], enabled: 'yes' }, 'enabled'],
  ])('refuse %s with a 400 naming the field', async (_label, body, field) => {
    const answer = await create(body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'validation_failed', details: { field } } });
  });

  it.each([
    ['/v1/admin/webhooks/nope', 'GET'],
    ['/v1/admin/webhooks/whe_', 'PATCH'],
    ['/v1/admin/webhook-deliveries/whe_abc', 'GET'],
    ['/v1/admin/webhook-deliveries/msg_%27%3B--/redeliver', 'POST'],
  ])('refuse a malformed id in %s with a 400', async (path, method) => {
    const answer = await call(method, path, method === 'GET' ? undefined : {}, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
  });

  it('answer 404 for ids that are well formed but unknown', async () => {
    for (const [method, path] of [
      ['GET', '/v1/admin/webhooks/whe_unknown'],
      ['PATCH', '/v1/admin/webhooks/whe_unknown'],
      ['POST', '/v1/admin/webhooks/whe_unknown/rotate-secret'],
      ['GET', '/v1/admin/webhooks/whe_unknown/deliveries'],
      ['GET', '/v1/admin/webhook-deliveries/msg_unknown'],
      ['POST', '/v1/admin/webhook-deliveries/msg_unknown/redeliver'],
    ] as const) {
      const answer = await call(method, path, method === 'GET' ? undefined : {}, asService());
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
  });

  it('to private or loopback addresses are refused unless the server allows them', async () => {
    for (const url of [
      'http://127.0.0.1:9/hooks',
      'http://10.0.0.5/hooks',
      'http://[::1]/hooks',
      'http://169.254.169.254/',
    ]) {
      const answer = await callStrict(
        'POST',
        '/v1/admin/webhooks',
        { url, events: ['*'] },
        { authorization: `Bearer ${strict().serviceKey}` },
      );
      expect(answer.status, url).toBe(400);
      expect(answer.body).toMatchObject({ error: { details: { field: 'url' } } });
      expect(JSON.stringify(answer.body)).toContain('PLINTH_WEBHOOKS_ALLOW_PRIVATE');
    }
  });

  it('a host name that resolves to a loopback address is saved, and refused when delivering', async () => {
    const made = await callStrict(
      'POST',
      '/v1/admin/webhooks',
      { url: receiverUrl.replace('127.0.0.1', 'localhost'), events: ['user.created'] },
      { authorization: `Bearer ${strict().serviceKey}` },
    );
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const endpointId = (made.body as { endpoint: { id: string } }).endpoint.id;
    const before = received.length;
    const email = `ssrf-${Date.now()}@example.com`;
    const user = await callStrict(
      'POST',
      '/v1/admin/users',
      { email },
      { authorization: `Bearer ${strict().serviceKey}` },
    );
    expect(user.status, JSON.stringify(user.body)).toBe(200);
    const deliveries = async () =>
      (
        await callStrict('GET', `/v1/admin/webhooks/${endpointId}/deliveries`, undefined, {
          authorization: `Bearer ${strict().serviceKey}`,
        })
      ).body as { deliveries: { id: string; attempts: number; lastExcerpt: string | null }[] };
    await expect.poll(async () => (await deliveries()).deliveries[0]?.attempts ?? 0, { timeout: 10_000 }).toBe(1);
    const [delivery] = (await deliveries()).deliveries;
    const detail = await callStrict('GET', `/v1/admin/webhook-deliveries/${delivery?.id}`, undefined, {
      authorization: `Bearer ${strict().serviceKey}`,
    });
    expect(detail.body).toMatchObject({ attempts: [{ attempt: 1, status: null, error: 'private_destination' }] });
    expect(received.length).toBe(before);
  });
});

describe('webhook deliveries from the running server', () => {
  it('carry a user made and deleted by the admin routes to the receiver, each once', async () => {
    const endpoint = await create({ url: receiverUrl, events: ['user.created', 'user.deleted', 'session.revoked'] });
    const endpointId = (endpoint.body as { endpoint: { id: string } }).endpoint.id;
    const email = `hooked-${Date.now()}@example.com`;
    const made = await call('POST', '/v1/admin/users', { email }, asService());
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const userId = (made.body as { user: { id: string } }).user.id;
    const ours = () => received.filter((request) => request.body.includes(userId));
    await expect.poll(() => ours().map((request) => request.type), { timeout: 10_000 }).toContain('user.created');
    const deleted = await call('DELETE', `/v1/admin/users/${userId}`, undefined, asService());
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    await expect
      .poll(
        () =>
          ours()
            .map((request) => request.type)
            .sort(),
        { timeout: 10_000 },
      )
      .toEqual(expect.arrayContaining(['user.created', 'user.deleted']));
    expect(new Set(ours().map((request) => request.id)).size).toBe(ours().length);

    const list = await call(
      'GET',
      `/v1/admin/webhooks/${endpointId}/deliveries?status=succeeded`,
      undefined,
      asService(),
    );
    const deliveries = (list.body as { deliveries: { id: string; status: string }[] }).deliveries;
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    // Sent again by hand: the same id, so a receiver that deduplicates does nothing twice.
    const again = await call('POST', `/v1/admin/webhook-deliveries/${deliveries[0]?.id}/redeliver`, {}, asService());
    expect(again.body).toMatchObject({ delivery: { id: deliveries[0]?.id, status: 'pending' } });
    await expect
      .poll(() => received.filter((request) => request.id === deliveries[0]?.id).length, { timeout: 10_000 })
      .toBe(2);
    await call('DELETE', `/v1/admin/webhooks/${endpointId}`, undefined, asService());
  });

  it('a realtime ticket may not name the server’s own account channels', async () => {
    const answer = await call('POST', '/v1/realtime/tickets', { channels: ['plinth:users'] }, asService());
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { details: { field: 'channels.0' } } });
  });
});
