import * as auth from '@plinth/auth';
import { createClient } from '@plinth/client';
import { describe, expect, it, vi } from 'vitest';
import { apiUrl } from '../../../test/fixtures/msw-server.js';

// Wrap the real createAuthClient in a spy, to see when the umbrella client builds one.
vi.mock('@plinth/auth', async (importOriginal) => {
  const original = await importOriginal<typeof import('@plinth/auth')>();
  return { ...original, createAuthClient: vi.fn(original.createAuthClient) };
});

describe('createClient builds auth lazily', () => {
  it('builds no auth client until plinth.auth is read, then exactly one', () => {
    const create = vi.mocked(auth.createAuthClient);
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test', auth: { mode: 'token' } });
    expect(create).not.toHaveBeenCalled();

    const first = plinth.auth;
    expect(create).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledWith(plinth.transport, { mode: 'token' });
    expect(plinth.auth).toBe(first);
    expect(create).toHaveBeenCalledTimes(1);
  });
});
