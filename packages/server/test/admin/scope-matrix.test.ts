import { randomUUID } from 'node:crypto';
import { type ApiKeyScope, apiKeyScopes, type RouteWithSchemas, routeTable } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import { useDataServer } from '../data/data-fixture.js';

// The scope matrix, generated from the route table: for every `service` route, a key without
// a scope the route needs is refused with 403 `insufficient_scope` naming that scope, and a key
// with exactly what it needs is let through (whatever the handler then answers, never 401/403).
// A new service route is in the matrix the day it is added; one whose need depends on its input
// (`scopeFor`) must have sample inputs below, or this test fails and says so.

const data = useDataServer();
const { call } = data;

/** Inputs for routes with `scopeFor`: each must pass the route's schema, so the check is reached. */
const samples: Record<string, { what: string; input: Record<string, unknown>; needs: ApiKeyScope[] }[]> = {
  from: [
    { what: 'select', input: { table: 'items', op: 'select', limit: 1 }, needs: ['data:read'] },
    {
      what: 'insert',
      input: { table: 'items', op: 'insert', values: { name: `scope-${randomUUID()}` } },
      needs: ['data:write'],
    },
    {
      what: 'update',
      input: { table: 'items', op: 'update', values: { qty: 1 }, where: { column: 'id', op: 'eq', value: -1 } },
      needs: ['data:write'],
    },
    {
      what: 'delete',
      input: { table: 'items', op: 'delete', where: { column: 'id', op: 'eq', value: -1 } },
      needs: ['data:write'],
    },
  ],
  batch: [
    {
      what: 'selects only',
      input: { steps: [{ kind: 'query', query: { table: 'items', op: 'select', limit: 1 } }] },
      needs: ['data:read'],
    },
    {
      what: 'a select and a delete',
      input: {
        steps: [
          { kind: 'query', query: { table: 'items', op: 'select', limit: 1 } },
          { kind: 'query', query: { table: 'items', op: 'delete', where: { column: 'id', op: 'eq', value: -1 } } },
        ],
      },
      needs: ['data:read', 'data:write'],
    },
    {
      what: 'a select and an sql step',
      input: {
        steps: [
          { kind: 'query', query: { table: 'items', op: 'select', limit: 1 } },
          { kind: 'sql', sql: { text: 'SELECT 1 AS one' } },
        ],
      },
      needs: ['data:read', 'data:write'],
    },
  ],
};

const keys = new Map<string, Promise<string>>();
/** An API key holding exactly `scopes`, made once per set by the service key. */
function keyWith(scopes: readonly ApiKeyScope[]): Promise<string> {
  const id = [...scopes].sort().join(',');
  let key = keys.get(id);
  if (!key) {
    key = call(
      'POST',
      '/v1/admin/api-keys',
      { name: `matrix ${id}`, scopes },
      {
        authorization: `Bearer ${data.server().serviceKey}`,
      },
    ).then((answer) => {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body?.key as string;
    });
    keys.set(id, key);
  }
  return key;
}
const allBut = (scope: ApiKeyScope) => apiKeyScopes.filter((held) => held !== scope);

/** Calls `route` with `key`; path parameters get a fresh UUID, GET/DELETE input goes in the query. */
function callRoute(route: RouteWithSchemas, key: string, input: Record<string, unknown> = {}) {
  const path = route.path.replace(/:\w+/g, () => randomUUID());
  const body = route.method === 'GET' || route.method === 'DELETE' || route.method === 'HEAD' ? undefined : input;
  return call(route.method, path, body, { authorization: `Bearer ${key}` });
}

const serviceRoutes = routeTable.filter((route) => route.auth === 'service');

describe('the scope matrix', () => {
  it('covers every service route, each declaring a scope or scopeFor', () => {
    expect(serviceRoutes.length).toBeGreaterThanOrEqual(10);
    for (const route of serviceRoutes)
      expect({ route: route.name, declared: route.scope !== undefined || route.scopeFor !== undefined }).toEqual({
        route: route.name,
        declared: true,
      });
  });

  for (const route of serviceRoutes) {
    if (route.scope !== undefined) {
      const scope = route.scope;
      it(`${route.method} ${route.path} (${route.name}) needs ${scope}`, async () => {
        const refused = await callRoute(route, await keyWith(allBut(scope)));
        expect(refused.status, JSON.stringify(refused.body)).toBe(403);
        expect(refused.body?.error).toMatchObject({ code: 'insufficient_scope', details: { scope } });
        expect(refused.body?.error.message).toContain(scope);

        const admitted = await callRoute(route, await keyWith([scope]));
        expect([401, 403], JSON.stringify(admitted.body)).not.toContain(admitted.status);
      });
    }
    if (route.scopeFor !== undefined) {
      it(`${route.method} ${route.path} (${route.name}) has sample inputs for its scopeFor`, () => {
        expect(samples[route.name]?.length, `add samples for ${route.name} to this test`).toBeGreaterThan(0);
      });
      for (const sample of samples[route.name] ?? []) {
        it(`${route.method} ${route.path} (${route.name}), ${sample.what}: needs ${sample.needs.join(' and ')}`, async () => {
          expect([...(route.scopeFor?.(sample.input as never) ?? [])].sort()).toEqual([...sample.needs].sort());
          for (const scope of sample.needs) {
            const refused = await callRoute(route, await keyWith(allBut(scope)), sample.input);
            expect(refused.status, JSON.stringify(refused.body)).toBe(403);
            expect(refused.body?.error).toMatchObject({ code: 'insufficient_scope', details: { scope } });
          }
          const admitted = await callRoute(route, await keyWith(sample.needs), sample.input);
          expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
        });
      }
    }
  }

  // Administration, beyond API-key scopes: no credential, the publishable key and a signed-in
  // user's access token are refused on every admin route, before its handler runs.
  let user: Promise<{ accessToken: string }> | undefined;
  const adminRoutes = serviceRoutes.filter((route) => route.scope === 'admin');
  it('lists the admin routes: users, sessions, API keys and secrets', () => {
    expect(adminRoutes.map((route) => route.name)).toEqual(
      expect.arrayContaining(['admin.listUsers', 'admin.createApiKey', 'admin.revokeSession', 'admin.secrets.get']),
    );
  });
  for (const route of adminRoutes) {
    it(`${route.method} ${route.path} (${route.name}) refuses no key, the publishable key and a user's token`, async () => {
      user ??= data.user(`matrix-${randomUUID()}@example.com`);
      const { accessToken } = await user;
      const path = route.path.replace(/:\w+/g, () => randomUUID());
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
      for (const [who, headers] of [
        ['no key', {}],
        ['the publishable key', { authorization: `Bearer ${data.server().publishableKey}` }],
        ["a user's access token", { authorization: `Bearer ${accessToken}` }],
      ] as const) {
        const refused = await call(route.method, path, body, headers);
        expect({ who, status: refused.status }, JSON.stringify(refused.body)).toEqual({ who, status: 401 });
        expect(refused.body?.error.code).toBe('unauthenticated');
      }
    });
  }

  it('the service key passes every check (it holds every scope)', async () => {
    const admitted = await call(
      'POST',
      '/v1/batch',
      { steps: [{ kind: 'sql', sql: { text: 'SELECT 1 AS one' } }] },
      { authorization: `Bearer ${data.server().serviceKey}` },
    );
    expect(admitted.status).toBe(200);
  });

  it('an API key acts as the service role on data routes and may act as a user', async () => {
    const key = await keyWith(['data:read']);
    const asService = await call(
      'POST',
      '/v1/sql',
      { text: 'SELECT current_user AS who' },
      {
        authorization: `Bearer ${key}`,
      },
    );
    // sql needs data:write: a read-only key cannot run app SQL at all.
    expect(asService.status).toBe(403);
    const readWrite = await keyWith(['data:read', 'data:write']);
    const who = await call(
      'POST',
      '/v1/sql',
      { text: 'SELECT current_user AS who' },
      {
        authorization: `Bearer ${readWrite}`,
      },
    );
    expect(who.body?.rows).toEqual([{ who: 'plinth_service' }]);
    const user = await data.user('scope-matrix@example.com');
    const asUser = await call(
      'POST',
      '/v1/sql',
      { text: 'SELECT current_user AS who' },
      {
        authorization: `Bearer ${readWrite}`,
        'x-plinth-act-as': user.accessToken,
      },
    );
    expect(asUser.body?.rows).toEqual([{ who: 'plinth_authenticated' }]);
  });
});
