import { ConfigurationError, MissingServiceKeyError } from '@plinth/core';
import { sql } from '@plinth/query';
import { describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import * as browser from '../src/index.browser.js';
import * as full from '../src/index.js';

// The browser entry (export condition `browser`) leaves the data client's code out: no data call
// can run in a browser. Its data methods refuse as the full build's do without a service key.
const mock = useMockServer();

describe('the browser build of @plinth/client', () => {
  it('exports the same names as the full build', () => {
    expect(Object.keys(browser).sort()).toEqual(Object.keys(full).sort());
  });

  it('throws MissingServiceKeyError synchronously from every data method, with zero requests', async () => {
    const plinth = browser.createClient({ url: apiUrl, publishableKey: 'pk_test' });
    expect(() => plinth.from('posts')).toThrow(MissingServiceKeyError);
    expect(() => plinth.sql`select 1`).toThrow(MissingServiceKeyError);
    expect(() => plinth.batch([sql`select 1`])).toThrow(MissingServiceKeyError);
    expect(() => plinth.as('anon')).toThrow(MissingServiceKeyError);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });

  it('says how to get the data and admin clients where a service key is allowed in a browser', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    try {
      const plinth = browser.createClient({
        url: apiUrl,
        publishableKey: 'pk_test',
        serviceKey: 'sk_test_0123456789abcdef0123456789abcdef',
        dangerouslyAllowBrowser: true,
      });
      expect(() => plinth.from('posts')).toThrow(ConfigurationError);
      expect(() => plinth.from('posts')).toThrow(/createQueryClient\(plinth\.transport\) from @plinth\/query/);
      expect(() => plinth.admin.users.list()).toThrow(ConfigurationError);
      expect(() => plinth.admin.users.list()).toThrow(/createAdminClient\(plinth\.transport\) from @plinth\/admin/);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(mock.requests).toHaveLength(0);
  });

  it('keeps auth and the server client', () => {
    const plinth = browser.createServerClient({
      url: apiUrl,
      publishableKey: 'pk_test',
      cookies: { getAll: () => [], setAll: () => {} },
    });
    expect(typeof plinth.auth.getMe).toBe('function');
    expect(() => plinth.from('posts')).toThrow(MissingServiceKeyError);
  });
});
