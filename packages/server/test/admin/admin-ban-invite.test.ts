import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { jsonClient, signUpAndSignIn, waitForMailedToken } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// Bans with an end, invitations and sign-in links made by the admin routes. A ban refuses
// sign-in, refresh and live tokens at once (the session check is warmed first, so a ban that
// reached only the database would fail), and ends by itself or when lifted. An invitation makes
// an account without a password whose mailed link signs in; a sign-in link is answered, works
// once, and never reaches the audit log.

const outbox = createOutboxMailer(createLogger('silent'));
const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const rateRules = Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous]));
const origin = 'http://localhost:5173';
const server = useTestServer({ mailer: outbox, rateRules, corsOrigins: [origin] });
const call = jsonClient(() => server().url);
const password = 'correct horse battery staple';
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
let count = 0;
const newEmail = (tag: string) => `${tag}-${++count}-${Date.now()}@example.com`;

async function signedIn(email: string) {
  const user = await signUpAndSignIn(call, outbox, email, password);
  // Warmed: a ban that reached only the database, not the session-check cache, would fail.
  for (let i = 0; i < 2; i++)
    expect((await call('GET', '/v1/auth/me', undefined, bearer(user.accessToken))).status).toBe(200);
  return user;
}

const ban = (userId: string, bannedUntil: string | null) =>
  call('PATCH', `/v1/admin/users/${userId}`, { bannedUntil }, asService());

describe('admin: a ban until a time', () => {
  it('ends every session at once and refuses sign-in and refresh until it is lifted', async () => {
    const email = newEmail('ban');
    const ada = await signedIn(email);
    const until = inAnHour();
    const banned = await ban(ada.userId, until);
    expect(banned.status, JSON.stringify(banned.body)).toBe(200);
    expect(banned.body).toMatchObject({ user: { bannedUntil: until, disabled: false }, revokedSessions: 1 });
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', { refreshToken: ada.refreshToken })).status).toBe(401);
    const refused = await call('POST', '/v1/auth/sign-in', { email, password });
    expect(refused.status).toBe(401);
    // The same answer as a wrong password: a ban is not announced to whoever tries the account.
    const wrong = await call('POST', '/v1/auth/sign-in', { email, password: 'not the password at all' });
    expect(refused.body?.error.code).toBe(wrong.body?.error.code);

    const listed = await call('GET', '/v1/admin/users?status=banned&limit=1000', undefined, asService());
    expect(listed.body?.users.map((user: { id: string }) => user.id)).toContain(ada.userId);
    const active = await call('GET', `/v1/admin/users?status=active&emailPrefix=${email}`, undefined, asService());
    expect(active.body?.users).toEqual([]);

    const lifted = await ban(ada.userId, null);
    expect(lifted.body).toMatchObject({ user: { bannedUntil: null }, revokedSessions: 0 });
    expect((await call('POST', '/v1/auth/sign-in', { email, password })).status).toBe(200);
    const actions = await server().services.database.query<{ action: string }>(
      "SELECT action FROM plinth.audit_log WHERE user_id = $1 AND action LIKE 'admin.user_%ban%' ORDER BY id",
      [ada.userId],
    );
    expect(actions.map((row) => row.action)).toEqual(['admin.user_banned', 'admin.user_unbanned']);
  });

  it('ends by itself: a ban whose time has passed bans nothing', async () => {
    const email = newEmail('ban-ends');
    const ada = await signedIn(email);
    await ban(ada.userId, inAnHour());
    expect((await call('POST', '/v1/auth/sign-in', { email, password })).status).toBe(401);
    // The clock moved past the end: the database's now() is what decides.
    await server().services.database.query(
      "UPDATE plinth.users SET banned_until = now() - interval '1 second' WHERE id = $1",
      [ada.userId],
    );
    expect((await call('POST', '/v1/auth/sign-in', { email, password })).status).toBe(200);
    const user = await call('GET', `/v1/admin/users/${ada.userId}`, undefined, asService());
    expect(user.body?.user.bannedUntil).toBeNull();
  });

  it.each([
    ['a date without a time', '2026-12-24'],
    ['a time without an offset', '2026-12-24T10:00:00'],
    ['words', 'tomorrow'],
    ['a number', 1_800_000_000],
    ['an object', { until: '2026-12-24T10:00:00Z' }],
  ])('refuses %s with a 400 naming bannedUntil', async (_label, bannedUntil) => {
    const ada = await signedIn(newEmail('ban-bad'));
    const answer = await call('PATCH', `/v1/admin/users/${ada.userId}`, { bannedUntil }, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body?.error.details.field).toBe('bannedUntil');
    expect((await call('GET', '/v1/auth/me', undefined, bearer(ada.accessToken))).status).toBe(200);
  });

  it('answers 404 for a user that does not exist', async () => {
    const answer = await ban('00000000-0000-4000-8000-000000000000', inAnHour());
    expect(answer.status).toBe(404);
  });
});

describe('admin: invitations', () => {
  it('make an account without a password whose mailed link confirms the email and signs in', async () => {
    const email = newEmail('invite');
    const invited = await call(
      'POST',
      '/v1/admin/users/invite',
      { email, redirectTo: `${origin}/welcome`, metadata: { plan: 'team' } },
      asService(),
    );
    expect(invited.status, JSON.stringify(invited.body)).toBe(200);
    expect(invited.body?.user).toMatchObject({ email, emailVerified: false, metadata: { plan: 'team' } });
    const token = await waitForMailedToken(outbox, email, 'magic_link');
    const mail = outbox.messages.find((message) => message.to === email);
    expect(mail?.subject).toBe('You are invited');
    expect(mail?.text).toContain(`${origin}/welcome?type=magic_link&token=`);
    const signedIn = await call('POST', '/v1/auth/magic-link/verify', { token });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.body?.user).toMatchObject({ email, emailVerified: true });
    // The link works once.
    expect((await call('POST', '/v1/auth/magic-link/verify', { token })).status).toBe(401);
  });

  it('refuse an email that has an account (409), and a redirectTo off the app origins before making one (400)', async () => {
    const email = newEmail('invite-taken');
    expect((await call('POST', '/v1/admin/users/invite', { email }, asService())).status).toBe(200);
    const again = await call('POST', '/v1/admin/users/invite', { email: email.toUpperCase() }, asService());
    expect(again.status).toBe(409);
    expect(again.body?.error.details.field).toBe('email');

    const elsewhere = newEmail('invite-elsewhere');
    const refused = await call(
      'POST',
      '/v1/admin/users/invite',
      { email: elsewhere, redirectTo: 'https://evil.example/steal' },
      asService(),
    );
    expect(refused.status).toBe(400);
    expect(refused.body?.error.details.field).toBe('redirectTo');
    const found = await call('GET', `/v1/admin/users?emailPrefix=${elsewhere}`, undefined, asService());
    expect(found.body?.users).toEqual([]);
  });

  it.each([
    ['no email', {}, 'email'],
    ['a bad email', { email: 'not-an-email' }, 'email'],
    // An unknown field is refused at the root, and named in the message (as every strict body).
    ['a password (invitations have none)', { email: 'x@example.com', password }, '(root)'],
    ['metadata that is an array', { email: 'y@example.com', metadata: [1] }, 'metadata'],
    ['a redirectTo that is not a URL', { email: 'z@example.com', redirectTo: 'welcome' }, 'redirectTo'],
  ])('refuse %s with a 400 naming the field', async (_label, body, field) => {
    const answer = await call('POST', '/v1/admin/users/invite', body, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body?.error.details.field).toBe(field);
    if (field === '(root)') expect(answer.body?.error.message).toContain('password');
  });
});

describe('admin: sign-in links', () => {
  it('are answered, sign in once, and never reach the audit log', async () => {
    const email = newEmail('link');
    const ada = await signedIn(email);
    const made = await call('POST', `/v1/admin/users/${ada.userId}/sign-in-link`, {}, asService());
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const link = new URL(made.body?.link as string);
    expect(link.origin).toBe(origin);
    expect(link.searchParams.get('type')).toBe('magic_link');
    const expiresIn = Date.parse(made.body?.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(600_000);
    const token = link.searchParams.get('token') as string;
    expect((await call('POST', '/v1/auth/magic-link/verify', { token })).status).toBe(200);
    expect((await call('POST', '/v1/auth/magic-link/verify', { token })).status).toBe(401);
    const logged = await server().services.database.query<{ text: string }>(
      'SELECT details::text AS text FROM plinth.audit_log WHERE user_id = $1',
      [ada.userId],
    );
    expect(logged.map((row) => row.text).join()).not.toContain(token);
  });

  it('refuse a disabled or banned account (409), an unknown one (404), and a redirectTo off the app origins (400)', async () => {
    const ada = await signedIn(newEmail('link-banned'));
    await ban(ada.userId, inAnHour());
    const banned = await call('POST', `/v1/admin/users/${ada.userId}/sign-in-link`, {}, asService());
    expect(banned.status).toBe(409);
    const unknown = await call(
      'POST',
      '/v1/admin/users/00000000-0000-4000-8000-000000000000/sign-in-link',
      {},
      asService(),
    );
    expect(unknown.status).toBe(404);
    const bob = await signedIn(newEmail('link-redirect'));
    const elsewhere = await call(
      'POST',
      `/v1/admin/users/${bob.userId}/sign-in-link`,
      { redirectTo: 'https://evil.example/' },
      asService(),
    );
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body?.error.details.field).toBe('redirectTo');
  });

  it('are refused to a signed-in user’s own token and the publishable key', async () => {
    const ada = await signedIn(newEmail('link-self'));
    const own = await call('POST', `/v1/admin/users/${ada.userId}/sign-in-link`, {}, bearer(ada.accessToken));
    expect(own.status).toBe(401);
    const publishable = await call(
      'POST',
      `/v1/admin/users/${ada.userId}/sign-in-link`,
      {},
      bearer(server().publishableKey as string),
    );
    expect(publishable.status).toBe(401);
  });
});
