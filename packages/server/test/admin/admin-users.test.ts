import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import { defaultRateRules } from '../../src/features.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { type RunningServer, startServer } from '../../src/start-server.js';
import { jsonClient, signUpAndSignIn, tokenFromMail } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// docs/security.md, Refresh tokens and sessions: "All sessions revoked on password change/reset,
// disable, delete; users and admins can list and revoke sessions." Each check below signs in
// and warms the session-check cache first (GET /me twice), so a revocation that only reached the
// database, and not the cache, would fail it.

const outbox = createOutboxMailer(createLogger('silent'));
const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const rateRules = Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous]));
const server = useTestServer({ mailer: outbox, rateRules, corsOrigins: ['http://localhost:5173'] });
const call = jsonClient(() => server().url);
const password = 'correct horse battery staple';
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const signedIn = (email: string) => signUpAndSignIn(call, outbox, email, password);

async function warm(accessToken: string) {
  for (let i = 0; i < 2; i++)
    expect((await call('GET', '/v1/auth/me', undefined, bearer(accessToken))).status).toBe(200);
}

describe('admin: a user’s sessions', () => {
  it('lists a user’s active sessions and revokes one of them at once', async () => {
    const ada = await signedIn('admin-list@example.com');
    const second = await call('POST', '/v1/auth/sign-in', { email: 'admin-list@example.com', password });
    await warm(ada.accessToken);
    const listed = await call('GET', `/v1/admin/users/${ada.userId}/sessions`, undefined, asService());
    expect(listed.status).toBe(200);
    expect(listed.body?.sessions).toHaveLength(2);
    expect(listed.body?.sessions[0]).toEqual({
      id: expect.any(String),
      createdAt: expect.any(String),
      refreshedAt: expect.any(String),
      ip: '127.0.0.1',
      // Node's fetch, which the test signs in with.
      userAgent: 'node',
      device: 'node',
    });

    const me = await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken));
    const sessions = (await call('GET', '/v1/auth/sessions', undefined, bearer(ada.accessToken))).body?.sessions;
    const current = sessions.find((s: { current: boolean }) => s.current).id as string;
    expect(me.status).toBe(200);

    const revoked = await call('DELETE', `/v1/admin/users/${ada.userId}/sessions/${current}`, undefined, asService());
    expect(revoked.body).toEqual({ revoked: true });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: ada.refreshToken })).status).toBe(401);
    // The other session is untouched.
    expect(
      (await call('GET', '/v1/auth/me', undefined, bearer(second.body?.session.accessToken as string))).status,
    ).toBe(200);
    expect(
      (await call('GET', `/v1/admin/users/${ada.userId}/sessions`, undefined, asService())).body?.sessions,
    ).toHaveLength(1);
  });

  it('will not revoke a session through another user’s path', async () => {
    const ada = await signedIn('admin-owner@example.com');
    const bob = await signedIn('admin-other@example.com');
    const adaSession = (await call('GET', '/v1/auth/sessions', undefined, bearer(ada.accessToken))).body?.sessions[0]
      .id;
    const wrong = await call('DELETE', `/v1/admin/users/${bob.userId}/sessions/${adaSession}`, undefined, asService());
    expect(wrong.body).toEqual({ revoked: false });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(200);
  });

  it('needs the service key: a user’s own access token is not enough', async () => {
    const ada = await signedIn('admin-nokey@example.com');
    for (const headers of [{}, bearer(ada.accessToken)]) {
      const answer = await call('GET', `/v1/admin/users/${ada.userId}/sessions`, undefined, headers);
      expect(answer.status).toBe(401);
      expect(answer.body?.error.code).toBe('unauthenticated');
    }
  });
});

describe('admin: disabling and deleting a user', () => {
  it('disable revokes every session at once; the account cannot sign in or refresh until enabled', async () => {
    const ada = await signedIn('admin-disable@example.com');
    const phone = await call('POST', '/v1/auth/sign-in', { email: 'admin-disable@example.com', password });
    await warm(ada.accessToken);
    await warm(phone.body?.session.accessToken);

    const disabled = await call('PATCH', `/v1/admin/users/${ada.userId}`, { disabled: true }, asService());
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ user: { id: ada.userId, disabled: true }, revokedSessions: 2 });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(401);
    expect((await call('GET', '/v1/auth/me', undefined, bearer(phone.body?.session.accessToken))).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: ada.refreshToken })).status).toBe(401);
    expect((await call('POST', '/v1/auth/sign-in', { email: 'admin-disable@example.com', password })).status).toBe(401);

    const enabled = await call('PATCH', `/v1/admin/users/${ada.userId}`, { disabled: false }, asService());
    expect(enabled.body).toMatchObject({ user: { disabled: false }, revokedSessions: 0 });
    expect((await call('POST', '/v1/auth/sign-in', { email: 'admin-disable@example.com', password })).status).toBe(200);
    // Enabling does not bring revoked sessions back.
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(401);
  });

  it('delete revokes every session at once and removes the account', async () => {
    const ada = await signedIn('admin-delete@example.com');
    await warm(ada.accessToken);
    const deleted = await call('DELETE', `/v1/admin/users/${ada.userId}`, undefined, asService());
    expect(deleted.body).toEqual({ deleted: true, revokedSessions: 1 });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: ada.refreshToken })).status).toBe(401);
    expect((await call('POST', '/v1/auth/sign-in', { email: 'admin-delete@example.com', password })).status).toBe(401);
    expect((await call('DELETE', `/v1/admin/users/${ada.userId}`, undefined, asService())).body).toEqual({
      deleted: false,
      revokedSessions: 0,
    });
  });

  it('an unknown user is a 404 naming the field; a malformed id a 400', async () => {
    const missing = await call('PATCH', `/v1/admin/users/${crypto.randomUUID()}`, { disabled: true }, asService());
    expect(missing.status).toBe(404);
    expect(missing.body?.error.details).toMatchObject({ field: 'userId' });
    const malformed = await call('PATCH', '/v1/admin/users/not-a-uuid', { disabled: true }, asService());
    expect(malformed.status).toBe(400);
  });
});

describe('the session-check cache stays coherent', () => {
  it('sign-out, a password change and email verification are seen by the very next request', async () => {
    const ada = await signedIn('cache-local@example.com');
    const phone = await call('POST', '/v1/auth/sign-in', { email: 'cache-local@example.com', password });
    await warm(ada.accessToken);
    await warm(phone.body?.session.accessToken);
    const changed = await call(
      'POST',
      '/v1/auth/password',
      { currentPassword: password, newPassword: 'another horse battery staple' },
      bearer(ada.accessToken),
    );
    expect(changed.status).toBe(200);
    expect((await call('GET', '/v1/auth/me', undefined, bearer(phone.body?.session.accessToken))).status).toBe(401);
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(200);
    await call('POST', '/v1/auth/sign-out', {}, bearer(ada.accessToken));
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(401);
  });
});

// Two instances over one PostgreSQL database: a revocation on one must reach the other's cache
// through NOTIFY. The TTL is an hour here, so nothing but the notification can explain a 401.
describe.runIf(process.env.DATABASE_URL)('two instances on one PostgreSQL database', () => {
  const postgresLocation = testDatabaseLocations().find((location) => location.label === 'PostgreSQL');
  it('a session revoked on instance A is refused by instance B, whose cache had it', async () => {
    if (!postgresLocation) throw new Error('DATABASE_URL is set, so PostgreSQL should be a test location.');
    const url = await postgresLocation.create();
    const prefix = `plinth:test:${randomBytes(6).toString('hex')}:`;
    const common = {
      database: url,
      logLevel: 'silent',
      mailer: outbox,
      rateRules,
      corsOrigins: ['http://localhost:5173'],
      rateLimitKeyPrefix: prefix,
      sessionCheckTtlMs: 3_600_000,
    };
    const a: RunningServer = await startServer(common);
    const b: RunningServer = await startServer(common);
    try {
      const onA = jsonClient(() => a.url);
      const onB = jsonClient(() => b.url);
      await onA('POST', '/v1/auth/sign-up', { email: 'two@example.com', password });
      const token = await tokenFromMail(outbox, 'two@example.com', 'verify_email');
      await onA('POST', '/v1/auth/verify-email', { token });
      const session = (await onA('POST', '/v1/auth/sign-in', { email: 'two@example.com', password })).body?.session;
      for (let i = 0; i < 3; i++)
        expect((await onB('GET', '/v1/auth/me', undefined, bearer(session.accessToken))).status).toBe(200);
      expect((await onA('POST', '/v1/auth/sign-out', {}, bearer(session.accessToken))).body).toEqual({ signedOut: 1 });
      await expect
        .poll(async () => (await onB('GET', '/v1/auth/me', undefined, bearer(session.accessToken))).status, {
          timeout: 2_000,
          interval: 10,
        })
        .toBe(401);
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);
});
