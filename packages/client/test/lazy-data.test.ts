import { createClient } from '@plinth/client';
import * as query from '@plinth/query';
import { describe, expect, it, vi } from 'vitest';
import { apiUrl } from '../../../test/fixtures/msw-server.js';

// Wrap the real createQueryClient in a spy, to see when the umbrella client builds one.
vi.mock('@plinth/query', async (importOriginal) => {
  const original = await importOriginal<typeof import('@plinth/query')>();
  return { ...original, createQueryClient: vi.fn(original.createQueryClient) };
});

describe('createClient builds the data client lazily', () => {
  it('builds none until a data method is read, then exactly one for all four', () => {
    const create = vi.mocked(query.createQueryClient);
    create.mockClear();
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test', auth: { mode: 'token' } });
    void plinth.auth;
    void plinth.health;
    expect(create).not.toHaveBeenCalled();

    const from = plinth.from;
    expect(create).toHaveBeenCalledTimes(1);
    // The client's transport, and its cookie settings for as({ headers }).
    expect(create.mock.calls[0]?.[0]).toBe(plinth.transport);
    expect(plinth.from).toBe(from);
    void plinth.sql;
    void plinth.batch;
    void plinth.as;
    expect(create).toHaveBeenCalledTimes(1);
  });
});
