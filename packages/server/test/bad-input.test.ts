import { routeTable } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../src/features.js';
import { useTestServer } from './fixtures/test-server.js';

// Every route of the table, fed every kind of malformed input. Whatever the route and whoever
// calls it, the answer is a 4xx in the error envelope — never a 500, never a hang. Routes whose
// input is a JSON body must also name the failing field.
// Limits lifted: the corpus sends many requests from one IP, and the limits have their own tests.
const server = useTestServer({
  maxBodyBytes: 64 * 1024,
  rateRules: Object.fromEntries(
    Object.keys(defaultRateRules).map((name) => [name, { capacity: 1e9, refillPerSecond: 1e9 }]),
  ),
});

const oddEmails = [
  'a\u200b@example.com', // zero-width space
  'a\u202e@example.com', // right-to-left override
  '\ud800@example.com', // lone surrogate
  'a\u0000@example.com', // NUL
  'ａ@example.com', // full-width letter
  `${'a'.repeat(300)}@example.com`, // over 254 characters
  'no-at-sign',
  '',
];

const bodies: [string, string, Record<string, string>][] = [
  ['invalid JSON', '{"email": ', {}],
  ['a JSON array', '[]', {}],
  ['a JSON string', '"hello"', {}],
  [
    'wrong types everywhere',
    JSON.stringify({ email: 42, password: false, token: [], refreshToken: {}, scope: 9, code: null }),
    {},
  ],
  ['a body over the cap', JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(70 * 1024) }), {}],
  ['form encoding instead of JSON', 'email=a%40b.co', { 'content-type': 'application/x-www-form-urlencoded' }],
  ...oddEmails.map((email): [string, string, Record<string, string>] => [
    `the email ${JSON.stringify(email).slice(0, 24)}`,
    JSON.stringify({ email, password: 'correct horse battery' }),
    {},
  ]),
];

describe('bad input on every endpoint → 4xx envelope, never a 500', () => {
  const bodyRoutes = routeTable.filter(
    (route) => route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH',
  );
  for (const route of bodyRoutes) {
    for (const [what, body, headers] of bodies) {
      it(`${route.method} ${route.path}: ${what}`, async () => {
        const response = await fetch(`${server().url}${route.path.replace(/:\w+/g, 'x')}`, {
          method: route.method,
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });
        expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        const envelope = (await response.json()) as {
          error: { code: string; requestId: string; details?: { field?: string } };
        };
        expect(envelope.error.requestId).toBeTruthy();
        // Anonymous routes check input, so the field is named; guarded routes may refuse the caller first (401).
        if (route.auth === 'none' && response.status === 400) expect(envelope.error.details?.field).toBeTruthy();
      });
    }
  }

  const queryRoutes = routeTable.filter((route) => route.method === 'GET' || route.method === 'DELETE');
  for (const route of queryRoutes) {
    it(`${route.method} ${route.path}: hostile query and path values`, async () => {
      const path = route.path.replace(/:\w+/g, encodeURIComponent("'; DROP TABLE plinth.users; --"));
      const response = await fetch(
        `${server().url}${path}?email=%00&codeChallenge=${'x'.repeat(5000)}&redirectTo=javascript:alert(1)`,
        {
          method: route.method,
        },
      );
      expect(response.status).toBeLessThan(500);
      if (response.status >= 400)
        expect(((await response.json()) as { error: { code: string } }).error.code).toBeTruthy();
    });
  }

  it('signed-in callers get 400s naming the field on the session routes too', async () => {
    const base = server().url;
    const email = 'bad-input@example.com';
    const password = 'correct horse battery staple';
    await server().services.database.query(
      `INSERT INTO plinth.users (email, password_hash, email_verified_at) VALUES ($1, $2, now())`,
      [email, await server().services.auth.passwords.hash(password)],
    );
    const signIn = await fetch(`${base}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const { session } = (await signIn.json()) as { session: { accessToken: string } };
    const sessionBodyRoutes = routeTable.filter((route) => route.auth === 'session' && route.method === 'POST');
    expect(sessionBodyRoutes.length).toBeGreaterThanOrEqual(2);
    for (const route of sessionBodyRoutes) {
      for (const body of [
        '{"scope": 7, "currentPassword": [], "newPassword": 1}',
        '{"newPassword": "short", "currentPassword": "x", "scope": "everyone"}',
      ]) {
        const response = await fetch(`${base}${route.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
          body,
        });
        expect({ route: route.name, status: response.status }).toEqual({ route: route.name, status: 400 });
        const envelope = (await response.json()) as { error: { details?: { field?: string } } };
        expect(envelope.error.details?.field).toBeTruthy();
      }
    }
    const revoke = await fetch(`${base}/v1/auth/sessions/not-a-uuid`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    expect(revoke.status).toBe(400);
    expect(((await revoke.json()) as { error: { details: { field: string } } }).error.details.field).toBe('id');
  });

  it('the users table survived', async () => {
    expect((await fetch(`${server().url}/v1/health`)).status).toBe(200);
    const [row] = await server().services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM plinth.users');
    expect(row?.n).toBeGreaterThanOrEqual(0);
  });
});
