import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// What every audit entry records about who acted and from where, taken from the request being
// served (src/http/request-context.ts, which every call site must pass): the actor, the target,
// the client's address as the rate limiter sees it, the user agent and the request id, also for
// work done after the answer (sign-up). And what it never records: a password, token, key or
// secret value. The log is append-only for the server's role.

const generous = Object.fromEntries(
  Object.keys(defaultRateRules).map((name) => [name, { capacity: 10_000, refillPerSecond: 1_000 }]),
);
const secretsKeys = [{ version: 1, key: randomBytes(32).toString('base64') }];
// An app origin, so sign-up knows where its mailed link points.
const server = useTestServer({ rateRules: generous, secretsKeys, corsOrigins: ['http://localhost:5173'] });
const proxied = useTestServer({ rateRules: generous, trustedProxyHeader: 'x-forwarded-for' });
const call = jsonClient(() => server().url);
const callProxied = jsonClient(() => proxied().url);

interface Row {
  action: string;
  actor_type: string | null;
  actor_id: string | null;
  target: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  user_id: string | null;
}

const entriesOf = async (of: typeof server, requestId: string) =>
  (await of().services.database.query<Row>(
    `SELECT action, actor_type, actor_id, target, ip, user_agent, request_id, user_id::text AS user_id
       FROM plinth.audit_log WHERE request_id = $1 ORDER BY id`,
    [requestId],
  )) as Row[];

// A request id of the caller's own (kept: a plain token), and a user agent to find again.
const traced = (extra: Record<string, string> = {}) => {
  const requestId = `audit${randomBytes(8).toString('hex')}`;
  const userAgent = `plinth-audit-test/1.0 (${randomUUID()})`;
  return { requestId, userAgent, headers: { 'x-request-id': requestId, 'user-agent': userAgent, ...extra } };
};

const asService = (of: typeof server) => ({ authorization: `Bearer ${of().serviceKey}` });
const password = 'correct horse battery staple 42';

async function makeUser(email: string) {
  const created = await call('POST', '/v1/admin/users', { email, password, emailConfirmed: true }, asService(server));
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body?.user.id as string;
}

describe('who and from where', () => {
  it('an admin action: the service key acted on the user, from 127.0.0.1, in the answered request', async () => {
    const email = `admin-made-${randomUUID()}@example.com`;
    const trace = traced();
    const created = await call(
      'POST',
      '/v1/admin/users',
      { email, password, emailConfirmed: true },
      { ...asService(server), ...trace.headers },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.headers.get('x-request-id')).toBe(trace.requestId);
    const userId = created.body?.user.id as string;
    expect(await entriesOf(server, trace.requestId)).toEqual([
      {
        action: 'admin.user_created',
        actor_type: 'service',
        actor_id: null,
        target: `user:${userId}`,
        ip: '127.0.0.1',
        user_agent: trace.userAgent,
        request_id: trace.requestId,
        user_id: userId,
      },
    ]);
  });

  it('a sign-in: the user acted on their own account; the route answers the entry the same', async () => {
    const email = `signs-in-${randomUUID()}@example.com`;
    const userId = await makeUser(email);
    const trace = traced();
    const signedIn = await call('POST', '/v1/auth/sign-in', { email, password }, trace.headers);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.headers.get('x-request-id')).toBe(trace.requestId);
    expect(await entriesOf(server, trace.requestId)).toEqual([
      {
        action: 'auth.sign_in',
        actor_type: 'user',
        actor_id: userId,
        target: `user:${userId}`,
        ip: '127.0.0.1',
        user_agent: trace.userAgent,
        request_id: trace.requestId,
        user_id: userId,
      },
    ]);

    const listed = await call(
      'GET',
      `/v1/admin/audit-log?target=user:${userId}&action=auth.sign_in`,
      undefined,
      asService(server),
    );
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body?.entries).toEqual([
      {
        id: expect.stringMatching(/^\d+$/),
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
        action: 'auth.sign_in',
        actor: { type: 'user', id: userId },
        target: `user:${userId}`,
        ip: '127.0.0.1',
        userAgent: trace.userAgent,
        requestId: trace.requestId,
        details: { mode: 'token' },
      },
    ]);
  });

  it('a failed sign-in has no actor: a wrong password proves nobody', async () => {
    const email = `fails-${randomUUID()}@example.com`;
    const userId = await makeUser(email);
    const trace = traced();
    const refused = await call('POST', '/v1/auth/sign-in', { email, password: 'wrong password 1234' }, trace.headers);
    expect(refused.status).toBe(401);
    const [entry] = await entriesOf(server, trace.requestId);
    expect(entry).toMatchObject({ action: 'auth.sign_in_failed', actor_type: null, actor_id: null });
    expect(entry).toMatchObject({ target: `user:${userId}`, ip: '127.0.0.1', user_agent: trace.userAgent });
  });

  it('an API key acts as itself, by id, and a secret is the target by name', async () => {
    const made = await call('POST', '/v1/admin/api-keys', { name: 'audit test', scopes: ['admin'] }, asService(server));
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const keyId = made.body?.apiKey.id as string;
    const [createdEntry] = (await server().services.database.query(
      "SELECT actor_type, target FROM plinth.audit_log WHERE action = 'admin.api_key_created' AND target = $1",
      [`api_key:${keyId}`],
    )) as { actor_type: string; target: string }[];
    expect(createdEntry).toEqual({ actor_type: 'service', target: `api_key:${keyId}` });

    const name = `AUDIT_${randomBytes(4).toString('hex')}`;
    const trace = traced({ authorization: `Bearer ${made.body?.key}` });
    const put = await call('PUT', `/v1/admin/secrets/${name}`, { value: 'v' }, trace.headers);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(await entriesOf(server, trace.requestId)).toMatchObject([
      { action: 'admin.secret_put', actor_type: 'api_key', actor_id: keyId, target: `secret:${name}` },
    ]);
  });

  it('cuts a user agent to 512 characters', async () => {
    const email = `long-agent-${randomUUID()}@example.com`;
    await makeUser(email);
    const trace = traced({ 'user-agent': `Mozilla/5.0 ${'x'.repeat(2000)}` });
    expect((await call('POST', '/v1/auth/sign-in', { email, password }, trace.headers)).status).toBe(200);
    const [entry] = await entriesOf(server, trace.requestId);
    expect(entry?.user_agent).toBe(`Mozilla/5.0 ${'x'.repeat(2000)}`.slice(0, 512));
  });

  it('work after the answer (sign-up makes the account then) still records the request it came from', async () => {
    const email = `signs-up-${randomUUID()}@example.com`;
    const trace = traced();
    const answered = await call('POST', '/v1/auth/sign-up', { email, password }, trace.headers);
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    // The answer went out first: the entry appears when the account has been made.
    await expect.poll(async () => (await entriesOf(server, trace.requestId)).length).toBe(1);
    const [user] = (await server().services.database.query('SELECT id::text AS id FROM plinth.users WHERE email = $1', [
      email,
    ])) as { id: string }[];
    expect(await entriesOf(server, trace.requestId)).toEqual([
      {
        action: 'auth.sign_up',
        actor_type: 'user',
        actor_id: user?.id,
        target: `user:${user?.id}`,
        ip: '127.0.0.1',
        user_agent: trace.userAgent,
        request_id: trace.requestId,
        user_id: user?.id,
      },
    ]);
  });
});

describe('behind a trusted proxy (trustedProxyHeader: x-forwarded-for)', () => {
  it("records the header's right-most address, as the rate limiter does, not the socket's", async () => {
    const trace = traced({ 'x-forwarded-for': '6.6.6.6, 203.0.113.7' });
    const refused = await callProxied(
      'POST',
      '/v1/auth/sign-in',
      { email: `nobody-${randomUUID()}@example.com`, password: 'whatever password 1' },
      trace.headers,
    );
    expect(refused.status).toBe(401);
    expect(await entriesOf(proxied, trace.requestId)).toMatchObject([
      { action: 'auth.sign_in_failed', actor_type: null, target: null, ip: '203.0.113.7' },
    ]);

    const admin = traced({ 'x-forwarded-for': '2001:db8::7', ...asService(proxied) });
    const email = `proxied-${randomUUID()}@example.com`;
    expect((await callProxied('POST', '/v1/admin/users', { email }, admin.headers)).status).toBe(200);
    expect(await entriesOf(proxied, admin.requestId)).toMatchObject([
      { action: 'admin.user_created', actor_type: 'service', ip: '2001:db8::7', user_agent: admin.userAgent },
    ]);
  });
});

describe('what is never recorded', () => {
  it('no password, token, key or secret value appears anywhere in the log', async () => {
    const email = `canary-${randomUUID()}@example.com`;
    const canaryPassword = `pw-canary-${randomBytes(12).toString('hex')}`;
    expect((await call('POST', '/v1/auth/sign-up', { email, password: canaryPassword })).status).toBe(200);
    await expect
      .poll(
        async () =>
          (await server().services.database.query('SELECT 1 FROM plinth.users WHERE email = $1', [email])).length,
      )
      .toBe(1);
    // Confirmed by the admin route, so the sign-in below succeeds (and issues tokens).
    const [user] = (await server().services.database.query('SELECT id::text AS id FROM plinth.users WHERE email = $1', [
      email,
    ])) as { id: string }[];
    const otherPassword = `pw2-canary-${randomBytes(12).toString('hex')}`;
    const made = await call(
      'POST',
      '/v1/admin/users',
      { email: `canary2-${randomUUID()}@example.com`, password: otherPassword, emailConfirmed: true },
      asService(server),
    );
    expect(made.status).toBe(200);
    const signedIn = await call('POST', '/v1/auth/sign-in', { email: made.body?.user.email, password: otherPassword });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    const refreshed = await call('POST', '/v1/auth/refresh', { refreshToken: signedIn.body?.session.refreshToken });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    const key = await call('POST', '/v1/admin/api-keys', { name: 'canary', scopes: ['admin'] }, asService(server));
    expect(key.status).toBe(200);
    const secretValue = `secret-canary-${randomBytes(12).toString('hex')}`;
    const put = await call('PUT', '/v1/admin/secrets/CANARY', { value: secretValue }, asService(server));
    expect(put.status).toBe(200);

    const known = [
      canaryPassword,
      otherPassword,
      signedIn.body?.session.accessToken,
      signedIn.body?.session.refreshToken,
      refreshed.body?.session.accessToken,
      refreshed.body?.session.refreshToken,
      key.body?.key,
      secretValue,
      server().serviceKey,
    ] as string[];
    expect(known.every((value) => typeof value === 'string' && value.length >= 20)).toBe(true);
    const [all] = (await server().services.database.query(
      'SELECT count(*)::int AS entries, string_agg(a::text, chr(10)) AS text FROM plinth.audit_log a',
    )) as { entries: number; text: string }[];
    // The actions happened and were recorded (so the search below has something to search).
    expect(all?.text).toContain(`user:${user?.id}`);
    expect(all?.text).toContain('secret:CANARY');
    expect(all?.text).toContain(`api_key:${key.body?.apiKey.id}`);
    for (const value of known) expect(all?.text).not.toContain(value);
    // Nor a piece of one: the part of a key after its public prefix.
    expect(all?.text).not.toContain(String(key.body?.key).slice(12));
  });
});

describe('append-only', () => {
  it('the server role may add and read entries, and is refused UPDATE, DELETE and TRUNCATE', async () => {
    const database = server().services.database;
    const [role] = (await database.query('SELECT current_user AS name')) as { name: string }[];
    expect(role?.name).toBe('plinth_server');
    const [before] = (await database.query('SELECT count(*)::int AS n FROM plinth.audit_log')) as { n: number }[];
    expect(before?.n).toBeGreaterThan(0);
    await expect(database.query("UPDATE plinth.audit_log SET action = 'auth.sign_in', ip = '1.2.3.4'")).rejects.toThrow(
      /permission denied/,
    );
    await expect(database.query('DELETE FROM plinth.audit_log')).rejects.toThrow(/permission denied/);
    await expect(database.query('TRUNCATE plinth.audit_log')).rejects.toThrow(/permission denied/);
    const [after] = (await database.query('SELECT count(*)::int AS n FROM plinth.audit_log')) as { n: number }[];
    expect(after?.n).toBe(before?.n);
  });
});
