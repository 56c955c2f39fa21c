import { type AdminClient, createAdminClient } from '@plinth/admin';
import { createTransport, NotFoundError } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

// admin.secrets against msw: the request each method makes and what it resolves to. Against the
// real server: packages/server/test/secrets/.

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';
const admin = (): AdminClient =>
  createAdminClient(createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey, retry: false }));
const info = {
  name: 'STRIPE_API_KEY',
  keyVersion: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('admin.secrets', () => {
  it('put() sends PUT /v1/admin/secrets/:name with the value in the body and the service key', async () => {
    mock.use(
      http.put(`${apiUrl}/v1/admin/secrets/STRIPE_API_KEY`, () => HttpResponse.json({ secret: info, created: true })),
    );
    expect(await admin().secrets.put('STRIPE_API_KEY', 'sk_live_x')).toEqual({ secret: info, created: true });
    const request = mock.requests[0] as Request;
    expect(request.method).toBe('PUT');
    expect(request.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
    expect(await request.clone().json()).toEqual({ value: 'sk_live_x' });
  });

  it('get() resolves to the value; a 404 is a NotFoundError', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/secrets/STRIPE_API_KEY`, () =>
        HttpResponse.json({ secret: info, value: 'sk_live_x' }),
      ),
      http.get(`${apiUrl}/v1/admin/secrets/MISSING`, () =>
        HttpResponse.json(
          {
            error: {
              code: 'not_found',
              message: 'No secret named MISSING.',
              details: { field: 'name' },
              requestId: 'r1',
            },
          },
          { status: 404 },
        ),
      ),
    );
    expect(await admin().secrets.get('STRIPE_API_KEY')).toBe('sk_live_x');
    await expect(admin().secrets.get('MISSING')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('list() sends only the options given, in the query', async () => {
    mock.use(http.get(`${apiUrl}/v1/admin/secrets`, () => HttpResponse.json({ secrets: [info], nextCursor: null })));
    expect(await admin().secrets.list({ prefix: 'STRIPE', limit: 10, cursor: undefined })).toEqual({
      secrets: [info],
      nextCursor: null,
    });
    expect(Object.fromEntries(new URL((mock.requests[0] as Request).url).searchParams)).toEqual({
      prefix: 'STRIPE',
      limit: '10',
    });
  });

  it('delete() resolves to whether there was one', async () => {
    mock.use(http.delete(`${apiUrl}/v1/admin/secrets/OLD`, () => HttpResponse.json({ deleted: false })));
    expect(await admin().secrets.delete('OLD')).toBe(false);
    expect((mock.requests[0] as Request).method).toBe('DELETE');
  });
});
