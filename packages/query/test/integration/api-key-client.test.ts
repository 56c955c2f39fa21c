// A scoped API key (ak_…) as the SDK's serviceKey against the real server: it reads and writes
// within its scopes, and a call outside them throws a PermissionError naming the scope.
import { createClient, PermissionError } from '@plinth/client';
import { describe, expect, it } from 'vitest';
import { useDataServer } from '../fixtures/data-server.js';

const { server } = useDataServer();

async function apiKey(scopes: string[]): Promise<string> {
  const response = await fetch(`${server().url}/v1/admin/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server().serviceKey}` },
    body: JSON.stringify({ name: `sdk ${scopes.join(',')}`, scopes }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { key: string }).key;
}

const clientWith = (serviceKey: string) =>
  createClient({ url: server().url, publishableKey: server().publishableKey as string, serviceKey });

describe('an API key as serviceKey', () => {
  it('reads with data:read and is refused a write with insufficient_scope', async () => {
    const writer = clientWith(await apiKey(['data:read', 'data:write']));
    await writer.from('items').insert({ name: 'api-key-apple', qty: 3 });
    const reader = clientWith(await apiKey(['data:read']));
    const row = await reader.from('items').select('name, qty').where({ name: 'api-key-apple' }).single();
    expect(row).toEqual({ name: 'api-key-apple', qty: 3 });
    const refused = await Promise.resolve(reader.from('items').insert({ name: 'api-key-pear' })).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(PermissionError);
    expect(refused).toMatchObject({ code: 'insufficient_scope', details: { scope: 'data:write' } });
  });
});
