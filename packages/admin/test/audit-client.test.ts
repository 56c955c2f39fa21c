import { type AdminClient, type AuditEntry, createAdminClient } from '@plinth/admin';
import { createTransport, PermissionError, ValidationError } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

// admin.audit against msw: the request each method makes (path, query, key) and what it
// resolves to. Against the real server: packages/server/test/audit/.

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';
const admin = (): AdminClient =>
  createAdminClient(createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey, retry: false }));
const userId = '6f1c1f3e-6a43-4c57-9d7e-2b8c3a0d5e11';

const entry = (n: number): AuditEntry => ({
  id: String(n),
  at: `2026-12-02T10:00:00.00000${n}Z`,
  action: 'auth.sign_in',
  actor: { type: 'user', id: userId },
  target: `user:${userId}`,
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0',
  requestId: `req${n}`,
  details: { mode: 'token' },
});

const query = (request: Request) => Object.fromEntries(new URL(request.url).searchParams);
const onlyRequest = (): Request => {
  expect(mock.requests).toHaveLength(1);
  return mock.requests[0] as Request;
};

describe('admin.audit', () => {
  it('list() GETs /v1/admin/audit-log with the service key, only the filters given, Dates as ISO', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/audit-log`, () => HttpResponse.json({ entries: [entry(1)], nextCursor: 'c1' })),
    );
    const page = await admin().audit.list(
      {
        actor: userId,
        action: 'auth.*',
        target: undefined,
        since: new Date('2026-12-01T00:00:00.000Z'),
        until: '2026-12-03T00:00:00Z',
      },
      { limit: 50 },
    );
    expect(page).toEqual({ entries: [entry(1)], nextCursor: 'c1' });
    const request = onlyRequest();
    expect(request.method).toBe('GET');
    expect(new URL(request.url).pathname).toBe('/v1/admin/audit-log');
    expect(request.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
    expect(query(request)).toEqual({
      actor: userId,
      action: 'auth.*',
      since: '2026-12-01T00:00:00.000Z',
      until: '2026-12-03T00:00:00Z',
      limit: '50',
    });
  });

  it('list() with nothing sends no query; a cursor is passed on unchanged', async () => {
    mock.use(http.get(`${apiUrl}/v1/admin/audit-log`, () => HttpResponse.json({ entries: [], nextCursor: null })));
    expect(await admin().audit.list()).toEqual({ entries: [], nextCursor: null });
    expect(query(onlyRequest())).toEqual({});
    mock.requests.length = 0;
    await admin().audit.list({ actorType: 'api_key' }, { cursor: 'WyIyMDI2Il0' });
    expect(query(onlyRequest())).toEqual({ actorType: 'api_key', cursor: 'WyIyMDI2Il0' });
  });

  it('listAll() follows nextCursor through 3 pages with the same filters, each entry once', async () => {
    const pages: Record<string, { entries: AuditEntry[]; nextCursor: string | null }> = {
      '': { entries: [entry(5), entry(4)], nextCursor: 'c1' },
      c1: { entries: [entry(3), entry(2)], nextCursor: 'c2' },
      c2: { entries: [entry(1)], nextCursor: null },
    };
    mock.use(
      http.get(`${apiUrl}/v1/admin/audit-log`, ({ request }) =>
        HttpResponse.json(pages[new URL(request.url).searchParams.get('cursor') ?? '']),
      ),
    );
    const seen: string[] = [];
    for await (const found of admin().audit.listAll({ target: `user:${userId}` }, { pageSize: 2 })) seen.push(found.id);
    expect(seen).toEqual(['5', '4', '3', '2', '1']);
    expect(mock.requests.map(query)).toEqual([
      { target: `user:${userId}`, limit: '2' },
      { target: `user:${userId}`, limit: '2', cursor: 'c1' },
      { target: `user:${userId}`, limit: '2', cursor: 'c2' },
    ]);
  });

  it('listAll() makes no request until iterated, asks for pages of 1000, and stops when the loop breaks', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/admin/audit-log`, () =>
        HttpResponse.json({ entries: [entry(2), entry(1)], nextCursor: 'more' }),
      ),
    );
    const all = admin().audit.listAll();
    expect(mock.requests).toHaveLength(0);
    for await (const found of all) {
      expect(found.id).toBe('2');
      break;
    }
    expect(query(onlyRequest())).toEqual({ limit: '1000' });
  });

  it("the server's refusals are typed errors: a bad filter a ValidationError naming it, a key without admin a PermissionError", async () => {
    const refusal = (status: number, code: string, details: Record<string, string>) =>
      HttpResponse.json({ error: { code, message: `${code}.`, details, requestId: 'r1' } }, { status });
    mock.use(
      http.get(`${apiUrl}/v1/admin/audit-log`, ({ request }) =>
        query(request).action === 'admin.*'
          ? refusal(403, 'insufficient_scope', { scope: 'admin' })
          : refusal(400, 'validation_failed', { field: 'action' }),
      ),
    );
    const refused = await admin()
      .audit.list({ action: "x'; DROP TABLE plinth.audit_log; --" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ details: { field: 'action' } });
    expect(query(mock.requests[0] as Request)).toEqual({ action: "x'; DROP TABLE plinth.audit_log; --" });
    await expect(admin().audit.list({ action: 'admin.*' })).rejects.toBeInstanceOf(PermissionError);
  });
});
