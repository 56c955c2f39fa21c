import { describe, expect, it } from 'vitest';
import { tokenFromMail, useMailingServer } from '../fixtures/auth-helpers.js';

// Every route that sets a password refuses one equal to the email or its local part, one of
// whitespace only, and one with control characters: a 400 naming the field and saying why.

const { outbox, server, call } = useMailingServer();
const password = 'correct horse battery staple';

function expectRefused(answer: Awaited<ReturnType<typeof call>>, field: string, why: RegExp) {
  expect(answer.status).toBe(400);
  expect(answer.body?.error.code).toBe('validation_failed');
  expect(answer.body?.error.details.field).toBe(field);
  expect(answer.body?.error.message).toMatch(new RegExp(`^${field}: `));
  expect(answer.body?.error.message).toMatch(why);
}

async function verifiedUser(email: string) {
  await call('POST', '/v1/auth/sign-up', { email, password });
  const token = await tokenFromMail(outbox, email, 'verify_email');
  expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
  const signIn = await call('POST', '/v1/auth/sign-in', { email, password });
  return { authorization: `Bearer ${signIn.body?.session.accessToken}` };
}

describe('sign-up', () => {
  it.each([
    ['the email', 'Grace.Hopper@Example.com', 'grace.hopper@example.com', /email/],
    ['the local part', 'grace.hopper@example.com', 'GRACE.HOPPER', /email/],
    ['whitespace only', 'blank@example.com', '          ', /whitespace/],
    ['a NUL', 'nul@example.com', 'correct horse\u0000battery', /control character/],
    ['a C1 control', 'c1@example.com', 'correct horse\u0085battery', /control character/],
  ])('refuses %s as password, naming the field, and makes no account', async (_case, email, refused, why) => {
    expectRefused(await call('POST', '/v1/auth/sign-up', { email, password: refused }), 'password', why);
    const rows = await server().services.database.query('SELECT 1 FROM plinth.users WHERE lower(email) = lower($1)', [
      email,
    ]);
    expect(rows).toEqual([]);
  });
});

describe('password change', () => {
  it('refuses the account’s email or its local part as the new password', async () => {
    const bearer = await verifiedUser('change-rules@example.com');
    for (const newPassword of ['Change-Rules@example.com', 'change-rules']) {
      expectRefused(
        await call('POST', '/v1/auth/password', { currentPassword: password, newPassword }, bearer),
        'newPassword',
        /email/,
      );
    }
    expectRefused(
      await call('POST', '/v1/auth/password', { currentPassword: password, newPassword: 'new\tpass phrase' }, bearer),
      'newPassword',
      /control character/,
    );
    // Still the old password.
    expect((await call('POST', '/v1/auth/sign-in', { email: 'change-rules@example.com', password })).status).toBe(200);
  });
});

describe('password reset', () => {
  it('refuses the account’s email as the new password, and the link still works for a good one', async () => {
    await verifiedUser('reset-rules@example.com');
    await call('POST', '/v1/auth/reset-password', { email: 'reset-rules@example.com' });
    const token = await tokenFromMail(outbox, 'reset-rules@example.com', 'reset_password');
    expectRefused(
      await call('POST', '/v1/auth/reset-password/confirm', { token, newPassword: 'RESET-RULES@EXAMPLE.COM' }),
      'newPassword',
      /email/,
    );
    expectRefused(
      await call('POST', '/v1/auth/reset-password/confirm', { token, newPassword: '\u3000'.repeat(12) }),
      'newPassword',
      /whitespace/,
    );
    const newPassword = 'a fine new passphrase';
    expect((await call('POST', '/v1/auth/reset-password/confirm', { token, newPassword })).body).toEqual({
      updated: true,
    });
    expect(
      (await call('POST', '/v1/auth/sign-in', { email: 'reset-rules@example.com', password: newPassword })).status,
    ).toBe(200);
  });
});
