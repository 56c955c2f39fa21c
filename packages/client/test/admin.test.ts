import { createClient } from '@plinth/client';
import { MissingServiceKeyError } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import * as browser from '../src/index.browser.js';

// `plinth.admin`: the admin client over the umbrella client's transport, built on first read.
// Without a service key every method throws MissingServiceKeyError synchronously, before any
// request; the browser build carries none of its code and refuses the same way.

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';

describe('plinth.admin', () => {
  it('calls the admin routes with the service key, over the client’s own transport', async () => {
    mock.use(http.get(`${apiUrl}/v1/admin/users`, () => HttpResponse.json({ users: [], nextCursor: null, total: 0 })));
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test', serviceKey, retry: false });
    expect(plinth.admin).toBe(plinth.admin);
    expect(await plinth.admin.users.list()).toEqual({ users: [], nextCursor: null, total: 0 });
    expect(mock.requests[0]?.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
  });

  it('throws MissingServiceKeyError synchronously without a service key, with zero requests', async () => {
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test' });
    expect(() => plinth.admin.users.list()).toThrow(MissingServiceKeyError);
    expect(() => plinth.admin.webhooks.create({ url: 'https://example.com', events: ['*'] })).toThrow(
      MissingServiceKeyError,
    );
    expect(() => plinth.admin.secrets.get('STRIPE_KEY')).toThrow(MissingServiceKeyError);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });
});

describe('plinth.admin in the browser build', () => {
  it('throws MissingServiceKeyError synchronously from every method, with zero requests', async () => {
    const plinth = browser.createClient({ url: apiUrl, publishableKey: 'pk_test' });
    expect(() => plinth.admin.users.list()).toThrow(MissingServiceKeyError);
    expect(() => plinth.admin.apiKeys.create({ name: 'x', scopes: ['admin'] })).toThrow(MissingServiceKeyError);
    expect(() => plinth.admin.webhooks.redeliver('msg_x')).toThrow(/admin\.webhooks\.redeliver\(\)/);
    // Awaiting or inspecting it does not call anything.
    expect((plinth.admin as unknown as { then?: unknown }).then).toBeUndefined();
    expect((plinth.admin.users as unknown as { then?: unknown }).then).toBeUndefined();
    expect(String(Object.prototype.toString.call(plinth.admin))).toBe('[object Object]');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });
});
