import { type AdminClient, createAdminClient } from '@plinth/admin';
import { ConflictError, createTransport, NotFoundError, ValidationError } from '@plinth/core';
import type { AdminUser } from '@plinth/protocol';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

// The admin client against msw: which request each method makes (method, path, query or body,
// the service key) and what it resolves to. Against the real server: the server's own tests.

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';
const admin = (): AdminClient =>
  createAdminClient(createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey, retry: false }));

const userId = '6f1c1f3e-6a43-4c57-9d7e-2b8c3a0d5e11';
const user = (n: number): AdminUser => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  email: `user${n}@example.com`,
  emailVerified: true,
  createdAt: '2026-01-01T00:00:00.000Z',
  disabled: false,
  bannedUntil: null,
  metadata: {},
});
const apiKey = {
  id: userId,
  prefix: 'abcdefgh',
  name: 'ci',
  scopes: ['admin'],
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: { kind: 'service_key', keyId: null },
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
};
const errorBody = (code: string, field: string) => ({
  error: { code, message: `${field}: wrong`, details: { field }, requestId: 'r1' },
});

describe('users', () => {
  it('list() sends only the filters given, in the query, with the service key', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/users`, () => HttpResponse.json({ users: [user(1)], nextCursor: 'next', total: 5 })),
    );
    const page = await admin().users.list({ emailPrefix: 'Ada', limit: 2, status: undefined });
    expect(page).toEqual({ users: [user(1)], nextCursor: 'next', total: 5 });
    const request = mock.requests[0] as Request;
    expect(request.method).toBe('GET');
    expect(request.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
    expect(Object.fromEntries(new URL(request.url).searchParams)).toEqual({ emailPrefix: 'Ada', limit: '2' });
  });

  it('listAll() follows nextCursor to the end, keeping the filters on every page, and yields each user', async () => {
    const pages: Record<string, { users: AdminUser[]; nextCursor: string | null }> = {
      '': { users: [user(1), user(2)], nextCursor: 'c1' },
      c1: { users: [user(3), user(4)], nextCursor: 'c2' },
      c2: { users: [user(5)], nextCursor: null },
    };
    mock.use(
      http.get(`${apiUrl}/v1/admin/users`, ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor') ?? '';
        return HttpResponse.json({ ...pages[cursor], total: 5 });
      }),
    );
    const seen: string[] = [];
    for await (const found of admin().users.listAll({ status: 'disabled', pageSize: 2 })) seen.push(found.email);
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => `user${n}@example.com`));
    const queries = mock.requests.map((request) => Object.fromEntries(new URL(request.url).searchParams));
    expect(queries).toEqual([
      { status: 'disabled', limit: '2' },
      { status: 'disabled', limit: '2', cursor: 'c1' },
      { status: 'disabled', limit: '2', cursor: 'c2' },
    ]);
  });

  it('listAll() makes no request until iterated, and stops fetching when the loop breaks', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/users`, () =>
        HttpResponse.json({ users: [user(1), user(2)], nextCursor: 'more', total: 9 }),
      ),
    );
    const all = admin().users.listAll();
    expect(mock.requests).toHaveLength(0);
    for await (const found of all) {
      expect(found.id).toBe(user(1).id);
      break;
    }
    expect(mock.requests).toHaveLength(1);
    expect(new URL((mock.requests[0] as Request).url).searchParams.get('limit')).toBe('1000');
  });

  it('get(), create(), update() and delete() call their routes and resolve to the user or the outcome', async () => {
    const bodies: unknown[] = [];
    mock.use(
      http.get(`${apiUrl}/v1/admin/users/:userId`, ({ params }) =>
        HttpResponse.json({ user: { ...user(1), id: params.userId } }),
      ),
      http.post(`${apiUrl}/v1/admin/users`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ user: user(2) });
      }),
      http.patch(`${apiUrl}/v1/admin/users/:userId`, async ({ request, params }) => {
        bodies.push({ path: params.userId, body: await request.json() });
        return HttpResponse.json({ user: user(3), revokedSessions: 2 });
      }),
      http.delete(`${apiUrl}/v1/admin/users/:userId`, () => HttpResponse.json({ deleted: true, revokedSessions: 1 })),
    );
    const client = admin();
    expect((await client.users.get(userId)).id).toBe(userId);
    expect(await client.users.create({ email: 'ada@example.com', emailConfirmed: true, password: undefined })).toEqual(
      user(2),
    );
    // A changes object carrying other keys (a userId from a request body) cannot redirect the update.
    const changes = { metadata: { plan: 'pro' }, userId: 'someone-else' } as { metadata: Record<string, unknown> };
    expect(await client.users.update(userId, changes)).toEqual({ user: user(3), revokedSessions: 2 });
    expect(await client.users.delete(userId)).toEqual({ deleted: true, revokedSessions: 1 });
    expect(bodies).toEqual([
      { email: 'ada@example.com', emailConfirmed: true },
      { path: userId, body: { metadata: { plan: 'pro' } } },
    ]);
    expect(mock.requests.map((request) => request.method)).toEqual(['GET', 'POST', 'PATCH', 'DELETE']);
  });

  it('update() sends a ban as an ISO time (a Date converted) and null to lift it', async () => {
    const bodies: unknown[] = [];
    mock.use(
      http.patch(`${apiUrl}/v1/admin/users/:userId`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ user: user(3), revokedSessions: 1 });
      }),
    );
    await admin().users.update(userId, { bannedUntil: new Date('2026-12-24T10:00:00.000Z') });
    await admin().users.update(userId, { bannedUntil: '2026-12-25T10:00:00+01:00' });
    await admin().users.update(userId, { bannedUntil: null });
    expect(bodies).toEqual([
      { bannedUntil: '2026-12-24T10:00:00.000Z' },
      { bannedUntil: '2026-12-25T10:00:00+01:00' },
      { bannedUntil: null },
    ]);
  });

  it('invite() and createSignInLink() call their routes; the user id comes from the argument, not the options', async () => {
    const bodies: unknown[] = [];
    mock.use(
      http.post(`${apiUrl}/v1/admin/users/invite`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ user: user(4) });
      }),
      http.post(`${apiUrl}/v1/admin/users/:userId/sign-in-link`, async ({ request, params }) => {
        bodies.push({ path: params.userId, body: await request.json() });
        return HttpResponse.json({ link: 'https://app.example/?type=magic_link&token=ot_x', expiresAt: 'later' });
      }),
    );
    expect(
      await admin().users.invite({ email: 'new@example.com', redirectTo: undefined, metadata: { team: 1 } }),
    ).toEqual(user(4));
    const options = { redirectTo: 'https://app.example/welcome', userId: 'someone-else' } as { redirectTo: string };
    expect(await admin().users.createSignInLink(userId, options)).toEqual({
      link: 'https://app.example/?type=magic_link&token=ot_x',
      expiresAt: 'later',
    });
    expect(bodies).toEqual([
      { email: 'new@example.com', metadata: { team: 1 } },
      { path: userId, body: { redirectTo: 'https://app.example/welcome' } },
    ]);
  });

  it('server refusals become PlinthError subclasses: 409 ConflictError, 404 NotFoundError, 400 ValidationError', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/admin/users`, () => HttpResponse.json(errorBody('conflict', 'email'), { status: 409 })),
      http.get(`${apiUrl}/v1/admin/users/:userId`, () =>
        HttpResponse.json(errorBody('not_found', 'userId'), { status: 404 }),
      ),
      http.get(`${apiUrl}/v1/admin/users`, () =>
        HttpResponse.json(errorBody('validation_failed', 'limit'), { status: 400 }),
      ),
    );
    await expect(admin().users.create({ email: 'ada@example.com' })).rejects.toBeInstanceOf(ConflictError);
    await expect(admin().users.get(userId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(admin().users.list({ limit: 5000 })).rejects.toBeInstanceOf(ValidationError);
    const iterating = async () => {
      for await (const _ of admin().users.listAll()) {
        // unreachable: the first page is refused
      }
    };
    await expect(iterating()).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('sessions', () => {
  it('list(), revoke() and revokeAll() call the user’s session routes', async () => {
    const session = { id: userId, createdAt: '2026-01-01T00:00:00.000Z', refreshedAt: '2026-01-01T00:00:00.000Z' };
    mock.use(
      http.get(`${apiUrl}/v1/admin/users/:userId/sessions`, () => HttpResponse.json({ sessions: [session] })),
      http.delete(`${apiUrl}/v1/admin/users/:userId/sessions/:id`, ({ params }) =>
        HttpResponse.json({ revoked: params.id === userId }),
      ),
      http.delete(`${apiUrl}/v1/admin/users/:userId/sessions`, () => HttpResponse.json({ revokedSessions: 3 })),
    );
    const client = admin();
    expect(await client.sessions.list(userId)).toEqual([session]);
    expect(await client.sessions.revoke(userId, userId)).toBe(true);
    expect(await client.sessions.revokeAll(userId)).toBe(3);
    expect(mock.requests.map((request) => `${request.method} ${new URL(request.url).pathname}`)).toEqual([
      `GET /v1/admin/users/${userId}/sessions`,
      `DELETE /v1/admin/users/${userId}/sessions/${userId}`,
      `DELETE /v1/admin/users/${userId}/sessions`,
    ]);
  });
});

describe('apiKeys', () => {
  it('create(), list() and revoke() call the API-key routes', async () => {
    let created: unknown;
    mock.use(
      http.post(`${apiUrl}/v1/admin/api-keys`, async ({ request }) => {
        created = await request.json();
        return HttpResponse.json({ apiKey, key: 'ak_abcdefgh_secret' });
      }),
      http.get(`${apiUrl}/v1/admin/api-keys`, () => HttpResponse.json({ apiKeys: [apiKey] })),
      http.delete(`${apiUrl}/v1/admin/api-keys/:keyId`, () => HttpResponse.json({ apiKey })),
    );
    const client = admin();
    expect(await client.apiKeys.create({ name: 'ci', scopes: ['admin'] })).toEqual({
      apiKey,
      key: 'ak_abcdefgh_secret',
    });
    expect(created).toEqual({ name: 'ci', scopes: ['admin'] });
    expect(await client.apiKeys.list()).toEqual([apiKey]);
    expect(await client.apiKeys.revoke(userId)).toEqual(apiKey);
    expect(new URL((mock.requests[2] as Request).url).pathname).toBe(`/v1/admin/api-keys/${userId}`);
  });
});
