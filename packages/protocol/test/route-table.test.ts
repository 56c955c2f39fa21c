import {
  auditRoutes,
  batchRoute,
  defineRoute,
  isRetrySafe,
  pathParams,
  queryRoute,
  type Route,
  routeTable,
  schemaRoute,
  sqlRoute,
} from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { pinnedPublicRoutes } from '../../../test/fixtures/public-routes.js';

describe('the route table', () => {
  it('pins the public surface: every route anyone may call without a key or session', () => {
    expect(auditRoutes()).toEqual(pinnedPublicRoutes);
  });

  it('auditRoutes lists only auth none', () => {
    const fake = [
      { method: 'GET', path: '/v1/a', auth: 'none' },
      { method: 'GET', path: '/v1/b', auth: 'service' },
      { method: 'GET', path: '/v1/c', auth: 'session' },
    ] as unknown as Route[];
    expect(auditRoutes(fake)).toEqual(['GET /v1/a']);
  });

  it('carries every route’s schemas (the server validates with them)', () => {
    for (const route of routeTable) {
      expect(typeof route.schemas.request.safeParse).toBe('function');
      expect(typeof route.schemas.response.safeParse).toBe('function');
    }
  });

  it('has one route per method and path, and one per SDK method name', () => {
    const keys = routeTable.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    const names = routeTable.map((route) => route.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('declares every route under /v1 with a known auth requirement, and a scope only on service routes', () => {
    for (const route of routeTable) {
      // Lower-case segments; parameters are camelCase names (`:userId`).
      expect(route.path).toMatch(/^\/v1(\/([a-z0-9_-]+|:[a-z][A-Za-z0-9]*))+$/);
      expect(['none', 'session', 'service', 'ticket', 'presigned']).toContain(route.auth);
      if (route.scope !== undefined || route.scopeFor !== undefined) expect(route.auth).toBe('service');
      // An API key can reach a service route only through a declared scope.
      if (route.auth === 'service')
        expect(route.scope !== undefined || route.scopeFor !== undefined, route.name).toBe(true);
      expect(Object.isFrozen(route)).toBe(true);
    }
  });

  it('every path parameter is a field of the request schema', () => {
    const undeclared = (route: Route) => {
      const request = route.schemas?.request as unknown as { def: { shape?: Record<string, unknown> } } | undefined;
      const shape = request?.def.shape ?? {};
      return pathParams(route.path).filter((param) => !(param in shape));
    };
    for (const route of routeTable)
      expect({ route: route.name, undeclared: undeclared(route) }).toEqual({ route: route.name, undeclared: [] });
    // The check itself catches a route that forgot to declare its parameter.
    const broken = defineRoute({
      name: 'x',
      method: 'GET',
      path: '/v1/things/:id',
      auth: 'none',
      schemas: { request: z.object({}), response: z.object({}) },
    });
    expect(undeclared(broken)).toEqual(['id']);
  });
});

describe('scopes of the data routes', () => {
  const select = { table: 't', op: 'select' as const };
  const insert = { table: 't', op: 'insert' as const, values: {} };
  it('a select needs data:read, any change data:write', () => {
    expect(queryRoute.scopeFor?.(select)).toEqual(['data:read']);
    for (const op of ['insert', 'update', 'upsert', 'delete'] as const)
      expect(queryRoute.scopeFor?.({ table: 't', op })).toEqual(['data:write']);
    expect(sqlRoute.scope).toBe('data:write');
    expect(schemaRoute.scope).toBe('data:read');
  });

  it('a batch needs the union of its steps, each scope once', () => {
    const step = (query: typeof select | typeof insert) => ({ kind: 'query' as const, query });
    expect(batchRoute.scopeFor?.({ steps: [step(select), step(select)] })).toEqual(['data:read']);
    expect(batchRoute.scopeFor?.({ steps: [step(insert)] })).toEqual(['data:write']);
    expect([...(batchRoute.scopeFor?.({ steps: [step(select), step(insert), step(insert)] }) ?? [])].sort()).toEqual([
      'data:read',
      'data:write',
    ]);
    expect(batchRoute.scopeFor?.({ steps: [{ kind: 'sql', sql: { text: 'select 1' } }] })).toEqual(['data:write']);
  });
});

describe('isRetrySafe', () => {
  it('is true for GET, HEAD, PUT, DELETE and for POSTs declared idempotent', () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE'] as const) expect(isRetrySafe({ method })).toBe(true);
    expect(isRetrySafe({ method: 'POST' })).toBe(false);
    expect(isRetrySafe({ method: 'PATCH' })).toBe(false);
    expect(isRetrySafe({ method: 'POST', idempotent: true })).toBe(true);
  });
});

describe('pathParams', () => {
  it('lists placeholders in order', () => {
    expect(pathParams('/v1/storage/buckets/:bucket/objects/:key')).toEqual(['bucket', 'key']);
    expect(pathParams('/v1/health')).toEqual([]);
  });
});
