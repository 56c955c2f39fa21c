import { describe, expect, it } from 'vitest';
import { tokenFromMail, useMailingServer } from '../fixtures/auth-helpers.js';

// A link mailed before an account was disabled or deleted, or before its password changed or was
// reset, must not work after: each of those ends every outstanding one-time token of the account.

const { outbox, server, call } = useMailingServer();
const password = 'correct horse battery staple';
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });

const tokensIn = (email: string, type: string) =>
  outbox.messages
    .filter((m) => m.to === email && m.text.includes(`type=${type}`))
    .map((m) => m.text.match(/token=([A-Za-z0-9_-]+)/)?.[1]);

/** Asks for a link (`/v1/auth/magic-link` or `/v1/auth/reset-password`) and waits for the new one's token. */
async function mailedLink(email: string, path: string, type: string): Promise<string> {
  const before = new Set(tokensIn(email, type));
  expect((await call('POST', path, { email })).body).toEqual({ accepted: true });
  let token: string | undefined;
  await expect
    .poll(() => {
      token = tokensIn(email, type).find((candidate) => candidate !== undefined && !before.has(candidate));
      return token;
    })
    .toBeTruthy();
  return token as string;
}

async function verifiedUser(email: string) {
  await call('POST', '/v1/auth/sign-up', { email, password });
  const token = await tokenFromMail(outbox, email, 'verify_email');
  expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
  const signIn = await call('POST', '/v1/auth/sign-in', { email, password });
  expect(signIn.status).toBe(200);
  return { userId: signIn.body?.user.id as string, accessToken: signIn.body?.session.accessToken as string };
}

const useMagicLink = (token: string) => call('POST', '/v1/auth/magic-link/verify', { token });
const useResetLink = (token: string) =>
  call('POST', '/v1/auth/reset-password/confirm', { token, newPassword: 'a password set from an old link' });

/** Both links are refused as invalid, and the reset link did not change the password. */
async function expectDead(email: string, magic: string, reset: string) {
  const signIn = await useMagicLink(magic);
  expect(signIn.status).toBe(401);
  expect(signIn.body?.error.code).toBe('invalid_credentials');
  expect(signIn.body?.session).toBeUndefined();
  const resetAnswer = await useResetLink(reset);
  expect(resetAnswer.status).toBe(401);
  expect(resetAnswer.body?.error.code).toBe('invalid_credentials');
  const [row] = await server().services.database.query<{ password_hash: string }>(
    'SELECT password_hash FROM plinth.users WHERE lower(email) = $1',
    [email],
  );
  if (row)
    expect(await server().services.auth.passwords.verify(row.password_hash, password)).toMatchObject({ ok: true });
}

describe('links mailed before a change stop working', () => {
  it('disabling the account: refused while disabled, and still refused once enabled again', async () => {
    const email = 'links-disable@example.com';
    const { userId } = await verifiedUser(email);
    const magic = await mailedLink(email, '/v1/auth/magic-link', 'magic_link');
    const reset = await mailedLink(email, '/v1/auth/reset-password', 'reset_password');
    expect((await call('PATCH', `/v1/admin/users/${userId}`, { disabled: true }, asService())).status).toBe(200);
    await expectDead(email, magic, reset);
    expect((await call('PATCH', `/v1/admin/users/${userId}`, { disabled: false }, asService())).status).toBe(200);
    await expectDead(email, magic, reset);
    expect((await call('POST', '/v1/auth/sign-in', { email, password })).status).toBe(200);
  });

  it('disabling the account kills its email verification link too', async () => {
    const email = 'links-disable-verify@example.com';
    await call('POST', '/v1/auth/sign-up', { email, password });
    const verify = await tokenFromMail(outbox, email, 'verify_email');
    const [row] = await server().services.database.query<{ id: string }>(
      'SELECT id FROM plinth.users WHERE lower(email) = $1',
      [email],
    );
    const userId = row?.id as string;
    expect((await call('PATCH', `/v1/admin/users/${userId}`, { disabled: true }, asService())).status).toBe(200);
    expect((await call('POST', '/v1/auth/verify-email', { token: verify })).status).toBe(401);
    expect((await call('PATCH', `/v1/admin/users/${userId}`, { disabled: false }, asService())).status).toBe(200);
    expect((await call('POST', '/v1/auth/verify-email', { token: verify })).status).toBe(401);
  });

  it('deleting the account', async () => {
    const email = 'links-delete@example.com';
    const { userId } = await verifiedUser(email);
    const magic = await mailedLink(email, '/v1/auth/magic-link', 'magic_link');
    const reset = await mailedLink(email, '/v1/auth/reset-password', 'reset_password');
    expect((await call('DELETE', `/v1/admin/users/${userId}`, undefined, asService())).body).toMatchObject({
      deleted: true,
    });
    await expectDead(email, magic, reset);
  });

  it('a password change', async () => {
    const email = 'links-change@example.com';
    const { accessToken } = await verifiedUser(email);
    const magic = await mailedLink(email, '/v1/auth/magic-link', 'magic_link');
    const reset = await mailedLink(email, '/v1/auth/reset-password', 'reset_password');
    const newPassword = 'a brand new passphrase';
    const changed = await call(
      'POST',
      '/v1/auth/password',
      { currentPassword: password, newPassword },
      { authorization: `Bearer ${accessToken}` },
    );
    expect(changed.body).toEqual({ updated: true });
    expect((await useMagicLink(magic)).status).toBe(401);
    expect((await useResetLink(reset)).status).toBe(401);
    expect((await call('POST', '/v1/auth/sign-in', { email, password: newPassword })).status).toBe(200);
  });

  it('a reset: the other links die, whichever reset link was used', async () => {
    const email = 'links-reset@example.com';
    await verifiedUser(email);
    const magic = await mailedLink(email, '/v1/auth/magic-link', 'magic_link');
    const first = await mailedLink(email, '/v1/auth/reset-password', 'reset_password');
    const second = await mailedLink(email, '/v1/auth/reset-password', 'reset_password');
    const newPassword = 'the password from the second link';
    expect((await call('POST', '/v1/auth/reset-password/confirm', { token: second, newPassword })).body).toEqual({
      updated: true,
    });
    expect((await useMagicLink(magic)).status).toBe(401);
    expect((await useResetLink(first)).status).toBe(401);
    expect((await call('POST', '/v1/auth/sign-in', { email, password: newPassword })).status).toBe(200);
  });
});

describe('a link of a disabled account is refused when used', () => {
  it('even if the token outlived the disable (issued in a race with it)', async () => {
    const email = 'links-race@example.com';
    const { userId } = await verifiedUser(email);
    const magic = await mailedLink(email, '/v1/auth/magic-link', 'magic_link');
    const reset = await mailedLink(email, '/v1/auth/reset-password', 'reset_password');
    // Disabled behind the server's back: the tokens stay, as one issued just after a disable would.
    const db = server().services.database;
    await db.query('UPDATE plinth.users SET disabled_at = now() WHERE id = $1', [userId]);
    await expectDead(email, magic, reset);
    // Enabled the same way: the same links work again, so it was the disable that refused them.
    await db.query('UPDATE plinth.users SET disabled_at = NULL WHERE id = $1', [userId]);
    expect((await useMagicLink(magic)).status).toBe(200);
  });
});
