import { auditRoutes, routeTable } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import { featureModules } from '../src/features.js';
import { useTestServer } from './fixtures/test-server.js';

const server = useTestServer({ corsOrigins: ['http://localhost:5173'] });
const get = (path: string, init?: RequestInit) => fetch(`${server().url}${path}`, init);

describe('GET /v1/health', () => {
  it('reports the database reachable, with the server version', async () => {
    const response = await get('/v1/health');
    expect(response.status).toBe(200);
    // Rate limits shared through Redis when REDIS_URL is set (the CI's second pass), else per instance.
    const shared = Boolean(process.env.REDIS_URL);
    expect(await response.json()).toEqual({
      status: 'ok',
      version: expect.any(String),
      database: { reachable: true },
      rateLimits: { store: shared ? 'redis' : 'memory', shared },
    });
  });

  it('GET /v1/health/live answers 200 with the version, asking no dependency', async () => {
    const response = await get('/v1/health/live');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', version: expect.any(String) });
  });

  it('answers with the security headers and echoes a plain request id', async () => {
    const response = await get('/v1/health', { headers: { 'x-request-id': 'req_abc12345' } });
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
      'x-request-id': 'req_abc12345',
    });
    // Not https here, so no HSTS.
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('every kind of answer carries them, and CORS for a listed origin: JSON, an error, a 404, a handler’s own Response', async () => {
    const origin = 'http://localhost:5173';
    const answers = {
      json: await get('/v1/health', { headers: { origin } }),
      error: await get('/v1/auth/sign-in', {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: '{}',
      }),
      notFound: await get('/v1/nope', { headers: { origin } }),
      // A handler's own Response: an unknown refresh cookie is answered with cleared cookies.
      handlerResponse: await get('/v1/auth/refresh', {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', cookie: '__Host-plinth-refresh=rt_unknown' },
        body: '{}',
      }),
    };
    for (const [kind, response] of Object.entries(answers)) {
      expect({ kind, headers: Object.fromEntries(response.headers) }).toMatchObject({
        kind,
        headers: {
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
          'referrer-policy': 'no-referrer',
          'x-request-id': expect.stringMatching(/^[0-9a-f]{32}$/),
          'access-control-allow-origin': origin,
          'access-control-allow-credentials': 'true',
          vary: expect.stringMatching(/origin/i),
        },
      });
    }
    expect(answers.error.status).toBe(400);
    expect(answers.notFound.status).toBe(404);
    expect(answers.handlerResponse.status).toBe(401);
    expect(answers.handlerResponse.headers.getSetCookie().length).toBeGreaterThan(0);
  });

  it('replaces a request id that could inject into logs', async () => {
    const response = await get('/v1/health', { headers: { 'x-request-id': 'bad id" forged="1' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('unknown routes and methods', () => {
  it('an unknown path is a 404 route_not_found in the envelope', async () => {
    const response = await get('/v1/nope', { headers: { 'x-request-id': 'req_404_test' } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'route_not_found', message: expect.stringContaining('/v1/nope'), requestId: 'req_404_test' },
    });
  });

  it('a known path with another method is a 405 with Allow', async () => {
    const response = await get('/v1/health', { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(await response.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('serves every route of the contract: none answers 501 not_implemented (pinned)', async () => {
    const served = new Set(featureModules.flatMap((module) => [...module.handlers.keys()].map((route) => route.name)));
    const unserved = routeTable.filter((route) => !served.has(route.name)).map((route) => route.name);
    expect(unserved).toEqual([]);
    // The routes that last were unserved now answer for themselves (here: their input check).
    const exchange = await get('/v1/auth/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(exchange.status).toBe(400);
    expect(await exchange.json()).toMatchObject({ error: { code: 'validation_failed' } });
  });

  it('mounts exactly the protocol’s public routes', () => {
    expect(auditRoutes()).toContain('GET /v1/health');
  });
});

describe('CORS', () => {
  it('lets a listed app origin read answers, with credentials', async () => {
    const response = await get('/v1/health', { headers: { origin: 'http://localhost:5173' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('gives an unlisted origin no CORS headers', async () => {
    const response = await get('/v1/health', { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('answers no preflight for an unlisted origin', async () => {
    const response = await get('/v1/auth/sign-in', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('answers a preflight from a listed origin', async () => {
    const response = await get('/v1/auth/sign-in', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, apikey',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toContain('apikey');
  });

  it('lets a listed origin open a realtime stream with a ticket and resume it', async () => {
    const response = await get('/v1/realtime/stream', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization, last-event-id, x-request-id',
      },
    });
    expect(response.status).toBe(204);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'last-event-id', 'x-request-id']));
  });
});

describe('the publishable key', () => {
  it('is optional, but a wrong one is refused', async () => {
    expect((await get('/v1/health', { headers: { apikey: server().publishableKey ?? '' } })).status).toBe(200);
    const wrong = await get('/v1/health', { headers: { apikey: 'pk_not_ours' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'unauthenticated' } });
  });
});
