import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../src/features.js';
import { createLogger } from '../src/logger.js';
import { createOutboxMailer } from '../src/mail/outbox-mailer.js';
import { jsonClient, tokenFromMail } from './fixtures/auth-helpers.js';
import { useTestServer } from './fixtures/test-server.js';

const app = 'http://localhost:5173';
const outbox = createOutboxMailer(createLogger('silent'));
const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  corsOrigins: [app],
  mailer: outbox,
  // Every rule lifted: these tests sign up and in many times from one IP, and Redis buckets are
  // shared across files and runs. The limits themselves are tested in test/rate-limit/.
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
});
const call = jsonClient(() => server().url);
const password = 'correct horse battery staple';

async function verifiedUser(email: string) {
  expect((await call('POST', '/v1/auth/sign-up', { email, password })).body).toEqual({ accepted: true });
  const token = await tokenFromMail(outbox, email, 'verify_email');
  expect((await call('POST', '/v1/auth/verify-email', { token })).body).toEqual({ verified: true });
}

describe('token mode, end to end', () => {
  it('sign up, verify, sign in, me, refresh, sign out', async () => {
    await verifiedUser('ada@example.com');
    const signIn = await call('POST', '/v1/auth/sign-in', { email: 'Ada@Example.com', password });
    expect(signIn.status).toBe(200);
    expect(signIn.body?.user).toMatchObject({ email: 'ada@example.com', emailVerified: true });
    const { accessToken, refreshToken } = signIn.body?.session ?? {};
    expect(accessToken).toMatch(/^ey/);

    const me = await call('GET', '/v1/auth/me', undefined, { authorization: `Bearer ${accessToken}` });
    expect(me.status).toBe(200);
    expect(me.body?.user.email).toBe('ada@example.com');

    const refreshed = await call('POST', '/v1/auth/refresh', { refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body?.session.refreshToken).not.toBe(refreshToken);

    const out = await call(
      'POST',
      '/v1/auth/sign-out',
      {},
      { authorization: `Bearer ${refreshed.body?.session.accessToken}` },
    );
    expect(out.body).toEqual({ signedOut: 1 });
    const after = await call('GET', '/v1/auth/me', undefined, {
      authorization: `Bearer ${refreshed.body?.session.accessToken}`,
    });
    expect(after.status).toBe(401);
    expect(
      (await call('POST', '/v1/auth/refresh', { refreshToken: refreshed.body?.session.refreshToken })).status,
    ).toBe(401);
  });

  it('a verification link works once', async () => {
    await call('POST', '/v1/auth/sign-up', { email: 'once@example.com', password });
    const token = await tokenFromMail(outbox, 'once@example.com', 'verify_email');
    expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
    expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(401);
  });

  it('an unverified account cannot sign in', async () => {
    await call('POST', '/v1/auth/sign-up', { email: 'unverified@example.com', password });
    expect((await call('POST', '/v1/auth/sign-in', { email: 'unverified@example.com', password })).status).toBe(401);
  });
});

describe('no account enumeration', () => {
  const comparable = (answer: Awaited<ReturnType<typeof call>>) => ({
    status: answer.status,
    body: answer.body?.error ? { ...answer.body, error: { ...answer.body.error, requestId: '·' } } : answer.body,
  });

  it('sign-in: an unknown email and a wrong password get the same status and body', async () => {
    await verifiedUser('known@example.com');
    const unknown = await call('POST', '/v1/auth/sign-in', { email: 'nobody@example.com', password });
    const wrong = await call('POST', '/v1/auth/sign-in', { email: 'known@example.com', password: 'not the password' });
    expect(comparable(unknown)).toEqual(comparable(wrong));
    expect(unknown.status).toBe(401);
  });

  it('a redirectTo off the app origins is refused alike for a known and an unknown email', async () => {
    await verifiedUser('known-redirect@example.com');
    const redirectTo = 'https://evil.example/';
    for (const path of ['/v1/auth/sign-up', '/v1/auth/magic-link', '/v1/auth/reset-password']) {
      const known = await call('POST', path, { email: 'known-redirect@example.com', password, redirectTo });
      const unknown = await call('POST', path, { email: 'nobody-redirect@example.com', password, redirectTo });
      expect(comparable(known)).toEqual(comparable(unknown));
      expect(known.status).toBe(400);
      expect(known.body?.error.details.field).toBe('redirectTo');
    }
  });

  it('sign-up and recovery: a known and an unknown email get the same status and body', async () => {
    await verifiedUser('taken@example.com');
    const known = await call('POST', '/v1/auth/sign-up', { email: 'taken@example.com', password });
    const fresh = await call('POST', '/v1/auth/sign-up', { email: 'fresh@example.com', password });
    expect(comparable(known)).toEqual(comparable(fresh));
    const recoverKnown = await call('POST', '/v1/auth/reset-password', { email: 'taken@example.com' });
    const recoverUnknown = await call('POST', '/v1/auth/reset-password', { email: 'ghost@example.com' });
    expect(comparable(recoverKnown)).toEqual(comparable(recoverUnknown));
    expect(recoverKnown.body).toEqual({ accepted: true });
  });
});

describe('cookie mode', () => {
  const cookiesOf = (headers: Headers) => headers.getSetCookie();

  it('puts the session in __Host- HttpOnly Secure SameSite=Lax cookies and no token in the body', async () => {
    await verifiedUser('cookie@example.com');
    const signIn = await call(
      'POST',
      '/v1/auth/sign-in',
      { email: 'cookie@example.com', password, mode: 'cookie' },
      { origin: app },
    );
    expect(signIn.body?.session).toBeNull();
    const cookies = cookiesOf(signIn.headers);
    expect(cookies).toHaveLength(2);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/^__Host-plinth-(access|refresh)=/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('Secure');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).toContain('Path=/');
      expect(cookie).not.toMatch(/Domain=/i);
    }
    const jar = cookies.map((cookie) => cookie.split(';')[0]).join('; ');
    const me = await call('GET', '/v1/auth/me', undefined, { cookie: jar });
    expect(me.body?.user.email).toBe('cookie@example.com');

    // A state change from another site is refused, even with the cookie.
    const forged = await call('POST', '/v1/auth/sign-out', {}, { cookie: jar, origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
    expect(forged.body?.error.code).toBe('origin_rejected');
    const crossSite = await call('POST', '/v1/auth/refresh', {}, { cookie: jar, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);

    const refreshed = await call('POST', '/v1/auth/refresh', {}, { cookie: jar, origin: app });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body?.session).toBeNull();
    expect(cookiesOf(refreshed.headers)).toHaveLength(2);

    const out = await call('POST', '/v1/auth/sign-out', {}, { cookie: jar, origin: app });
    expect(out.status).toBe(200);
    expect(cookiesOf(out.headers).every((cookie) => cookie.includes('Max-Age=0'))).toBe(true);
  });

  it('a new session id at every sign-in', async () => {
    await verifiedUser('twice@example.com');
    const first = await call('POST', '/v1/auth/sign-in', { email: 'twice@example.com', password });
    const second = await call('POST', '/v1/auth/sign-in', { email: 'twice@example.com', password });
    const sid = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sid;
    expect(sid(first.body?.session.accessToken)).not.toBe(sid(second.body?.session.accessToken));
  });
});

describe('passwords and links', () => {
  it('a password change signs out the other sessions; a reset signs out all', async () => {
    await verifiedUser('change@example.com');
    const a = await call('POST', '/v1/auth/sign-in', { email: 'change@example.com', password });
    const b = await call('POST', '/v1/auth/sign-in', { email: 'change@example.com', password });
    const bearer = (answer: typeof a) => ({ authorization: `Bearer ${answer.body?.session.accessToken}` });
    const newPassword = 'a much longer new passphrase';
    const changed = await call('POST', '/v1/auth/password', { currentPassword: password, newPassword }, bearer(a));
    expect(changed.body).toEqual({ updated: true });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(a))).status).toBe(200);
    expect((await call('GET', '/v1/auth/me', undefined, bearer(b))).status).toBe(401);

    await call('POST', '/v1/auth/reset-password', { email: 'change@example.com' });
    const token = await tokenFromMail(outbox, 'change@example.com', 'reset_password');
    expect(
      (await call('POST', '/v1/auth/reset-password/confirm', { token, newPassword: 'yet another passphrase' })).body,
    ).toEqual({ updated: true });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(a))).status).toBe(401);
    expect(
      (await call('POST', '/v1/auth/sign-in', { email: 'change@example.com', password: 'yet another passphrase' }))
        .status,
    ).toBe(200);
  });

  it('rejects a common or short new password, naming the field', async () => {
    const common = await call('POST', '/v1/auth/sign-up', { email: 'c@example.com', password: 'password123' });
    expect(common.status).toBe(400);
    expect(common.body?.error.details.field).toBe('password');
  });

  it('a magic link signs in once and confirms the email', async () => {
    await call('POST', '/v1/auth/sign-up', { email: 'magic@example.com', password });
    // The account is made after sign-up answers; its verification mail says it exists.
    await tokenFromMail(outbox, 'magic@example.com', 'verify_email');
    expect((await call('POST', '/v1/auth/magic-link', { email: 'magic@example.com' })).body).toEqual({
      accepted: true,
    });
    const token = await tokenFromMail(outbox, 'magic@example.com', 'magic_link');
    const signedIn = await call('POST', '/v1/auth/magic-link/verify', { token });
    expect(signedIn.body?.user).toMatchObject({ email: 'magic@example.com', emailVerified: true });
    expect((await call('POST', '/v1/auth/magic-link/verify', { token })).status).toBe(401);
  });

  it('an email link may only point at an app origin', async () => {
    const away = await call('POST', '/v1/auth/magic-link', {
      email: 'magic@example.com',
      redirectTo: 'https://evil.example/steal',
    });
    expect(away.status).toBe(400);
    expect(away.body?.error.details.field).toBe('redirectTo');
  });
});

describe('a user lists and revokes their own sessions', () => {
  it('sees every active session, marks the current one, and can end another, but not someone else’s', async () => {
    await verifiedUser('lister@example.com');
    const a = await call('POST', '/v1/auth/sign-in', { email: 'lister@example.com', password });
    const b = await call('POST', '/v1/auth/sign-in', { email: 'lister@example.com', password });
    const bearer = (answer: typeof a) => ({ authorization: `Bearer ${answer.body?.session.accessToken}` });
    const listed = await call('GET', '/v1/auth/sessions', undefined, bearer(a));
    expect(listed.body?.sessions).toHaveLength(2);
    const other = listed.body?.sessions.find((s: { current: boolean }) => !s.current);
    expect(listed.body?.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);

    await verifiedUser('stranger@example.com');
    const stranger = await call('POST', '/v1/auth/sign-in', { email: 'stranger@example.com', password });
    expect((await call('DELETE', `/v1/auth/sessions/${other.id}`, undefined, bearer(stranger))).body).toEqual({
      revoked: false,
    });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(b))).status).toBe(200);

    expect((await call('DELETE', `/v1/auth/sessions/${other.id}`, undefined, bearer(a))).body).toEqual({
      revoked: true,
    });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(b))).status).toBe(401);
    expect((await call('GET', '/v1/auth/sessions', undefined, bearer(a))).body?.sessions).toHaveLength(1);
  });
});

describe('one-time links expire', () => {
  it('live at most 10 minutes, and an expired link is refused', async () => {
    await verifiedUser('expiry@example.com');
    await call('POST', '/v1/auth/magic-link', { email: 'expiry@example.com' });
    const token = await tokenFromMail(outbox, 'expiry@example.com', 'magic_link');
    const [row] = await server().services.database.query<{ seconds: number }>(
      `SELECT extract(epoch FROM expires_at - now())::int AS seconds FROM plinth.one_time_tokens
        WHERE purpose = 'magic_link' AND used_at IS NULL ORDER BY expires_at DESC LIMIT 1`,
    );
    expect(row?.seconds).toBeGreaterThan(590);
    expect(row?.seconds).toBeLessThanOrEqual(600);
    await server().services.database.query(
      `UPDATE plinth.one_time_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'magic_link' AND used_at IS NULL`,
    );
    const expired = await call('POST', '/v1/auth/magic-link/verify', { token });
    expect(expired.status).toBe(401);
    expect(expired.body?.error.code).toBe('invalid_credentials');
  });

  it('the raw token is never stored', async () => {
    await call('POST', '/v1/auth/magic-link', { email: 'expiry@example.com' });
    const token = await tokenFromMail(outbox, 'expiry@example.com', 'magic_link');
    const stored = JSON.stringify(await server().services.database.query('SELECT * FROM plinth.one_time_tokens'));
    expect(stored).not.toContain(token);
  });
});
