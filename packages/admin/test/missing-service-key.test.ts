import { type AdminClient, createAdminClient } from '@plinth/admin';
import { createTransport, MissingServiceKeyError } from '@plinth/core';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { thrownSynchronously } from '../../../test/fixtures/thrown-synchronously.js';

// Every admin method throws synchronously on a client without a service key: the throw happens
// at the call (no promise or iterator is returned) and nothing reaches the network. The msw
// server answers nothing, so a request that did go out would also fail the test as unhandled.
const mock = useMockServer();
const admin: AdminClient = createAdminClient(createTransport({ url: apiUrl, publishableKey: 'pk_test' }));
const userId = '6f1c1f3e-6a43-4c57-9d7e-2b8c3a0d5e11';
const endpointId = 'whe_01JF8X3ZQ4M7N2P5R6S8T9V0WA';
const deliveryId = 'msg_01JF8Y3ZQ4M7N2P5R6S8T9V0WB';

describe('MissingServiceKeyError, synchronously, with zero requests', () => {
  it.each([
    ['users.list()', () => admin.users.list({ limit: 10 })],
    ['users.listAll()', () => admin.users.listAll({ status: 'active' })],
    ['users.get()', () => admin.users.get(userId)],
    ['users.create()', () => admin.users.create({ email: 'ada@example.com' })],
    ['users.update()', () => admin.users.update(userId, { disabled: true })],
    ['users.delete()', () => admin.users.delete(userId)],
    ['users.invite()', () => admin.users.invite({ email: 'ada@example.com' })],
    ['users.createSignInLink()', () => admin.users.createSignInLink(userId)],
    ['sessions.list()', () => admin.sessions.list(userId)],
    ['sessions.revoke()', () => admin.sessions.revoke(userId, userId)],
    ['sessions.revokeAll()', () => admin.sessions.revokeAll(userId)],
    ['apiKeys.create()', () => admin.apiKeys.create({ name: 'ci', scopes: ['admin'] })],
    ['apiKeys.list()', () => admin.apiKeys.list()],
    ['apiKeys.revoke()', () => admin.apiKeys.revoke(userId)],
    ['secrets.put()', () => admin.secrets.put('STRIPE_API_KEY', 'sk_live_x')],
    ['secrets.get()', () => admin.secrets.get('STRIPE_API_KEY')],
    ['secrets.list()', () => admin.secrets.list({ prefix: 'STRIPE' })],
    ['secrets.delete()', () => admin.secrets.delete('STRIPE_API_KEY')],
    ['webhooks.create()', () => admin.webhooks.create({ url: 'https://example.com/hook', events: ['*'] })],
    ['webhooks.list()', () => admin.webhooks.list({ limit: 10 })],
    ['webhooks.listAll()', () => admin.webhooks.listAll()],
    ['webhooks.get()', () => admin.webhooks.get(endpointId)],
    ['webhooks.update()', () => admin.webhooks.update(endpointId, { enabled: true })],
    ['webhooks.delete()', () => admin.webhooks.delete(endpointId)],
    ['webhooks.rotateSecret()', () => admin.webhooks.rotateSecret(endpointId)],
    ['webhooks.deliveries()', () => admin.webhooks.deliveries(endpointId, { status: 'failed' })],
    ['webhooks.getDelivery()', () => admin.webhooks.getDelivery(deliveryId)],
    ['webhooks.redeliver()', () => admin.webhooks.redeliver(deliveryId)],
    ['audit.list()', () => admin.audit.list({ action: 'admin.*' })],
    ['audit.listAll()', () => admin.audit.listAll({ actor: userId })],
  ])('%s', async (name, call) => {
    const error = thrownSynchronously(call);
    expect(error).toBeInstanceOf(MissingServiceKeyError);
    expect(error).toMatchObject({ code: 'missing_service_key', name: 'MissingServiceKeyError' });
    expect((error as Error).message.startsWith(`admin.${name} needs a service key`)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });
});
