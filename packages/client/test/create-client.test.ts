import { createClient, isPlinthError, MissingServiceKeyError, ServiceKeyInBrowserError } from '@plinth/client';
import { HttpResponse, http } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { defineLazyProperty } from '../src/lazy-property.js';

const mock = useMockServer();

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('createClient', () => {
  it('calls the server through one transport, with the publishable key', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/health`, () =>
        HttpResponse.json({ status: 'ok', version: '0.1.0', database: { reachable: true } }),
      ),
    );
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test' });
    await expect(plinth.health()).resolves.toEqual({ status: 'ok', version: '0.1.0', database: { reachable: true } });
    expect(mock.requests[0]?.headers.get('apikey')).toBe('pk_test');
    expect(plinth.transport.hasServiceKey).toBe(false);
  });

  it('applies the transport’s browser rule to the service key', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    expect(() => createClient({ url: apiUrl, publishableKey: 'pk_test', serviceKey: 'sk_test_x' })).toThrow(
      ServiceKeyInBrowserError,
    );
  });

  it('re-exports the error classes so apps need one import', () => {
    const error = new MissingServiceKeyError('m', { code: 'missing_service_key' });
    expect(isPlinthError(error)).toBe(true);
  });
});

describe('defineLazyProperty (how sub-clients are attached)', () => {
  it('builds the value on first read, once, and not before', () => {
    const create = vi.fn(() => ({ built: true }));
    const client = {} as { auth: { built: boolean } };
    defineLazyProperty(client, 'auth', create);
    expect(create).not.toHaveBeenCalled();
    expect(client.auth).toEqual({ built: true });
    expect(client.auth).toBe(client.auth);
    expect(create).toHaveBeenCalledTimes(1);
    expect(Object.keys(client)).toEqual(['auth']);
  });
});
