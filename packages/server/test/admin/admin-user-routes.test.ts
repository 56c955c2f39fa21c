import { randomUUID } from 'node:crypto';
import { maxJsonDepth } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// admin.getUser, admin.createUser, admin.updateUser's email and metadata, admin.revokeAllSessions,
// and admin.deleteUser against a live access token; then hostile input for each of them.

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const rateRules = Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous]));
const server = useTestServer({ rateRules });
const call = jsonClient(() => server().url);
const password = 'correct horse battery staple';
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A confirmed user with a password, made by the admin route. */
async function created(email: string, extra: Record<string, unknown> = {}) {
  const answer = await call(
    'POST',
    '/v1/admin/users',
    { email, password, emailConfirmed: true, ...extra },
    asService(),
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body?.user as { id: string; email: string; emailVerified: boolean; metadata: Record<string, unknown> };
}

async function signIn(email: string) {
  const answer = await call('POST', '/v1/auth/sign-in', { email, password });
  return { status: answer.status, accessToken: answer.body?.session?.accessToken as string };
}

const me = async (token: string) => (await call('GET', '/v1/auth/me', undefined, bearer(token))).status;

describe('admin.createUser and admin.getUser', () => {
  it('makes a confirmed account with a password that signs in at once, stored under the canonical email', async () => {
    const user = await created('Create.Me@Example.COM', { metadata: { plan: 'pro', seats: 3 } });
    expect(user).toMatchObject({
      email: 'create.me@example.com',
      emailVerified: true,
      disabled: false,
      metadata: { plan: 'pro', seats: 3 },
    });
    const signedIn = await signIn('create.me@example.com');
    expect(signedIn.status).toBe(200);
    expect(await me(signedIn.accessToken)).toBe(200);
    const got = await call('GET', `/v1/admin/users/${user.id}`, undefined, asService());
    expect(got.body).toEqual({ user });
  });

  it('without emailConfirmed the email is unconfirmed and sign-in is refused', async () => {
    const answer = await call('POST', '/v1/admin/users', { email: 'unconfirmed@example.com', password }, asService());
    expect(answer.body?.user).toMatchObject({ emailVerified: false, metadata: {} });
    expect((await signIn('unconfirmed@example.com')).status).toBe(401);
  });

  it('without a password the account exists but cannot sign in with one', async () => {
    const answer = await call(
      'POST',
      '/v1/admin/users',
      { email: 'nopassword@example.com', emailConfirmed: true },
      asService(),
    );
    expect(answer.status).toBe(200);
    expect((await signIn('nopassword@example.com')).status).toBe(401);
  });

  it('a taken email, in any spelling, is a 409 naming the field', async () => {
    await created('taken@example.com');
    const again = await call('POST', '/v1/admin/users', { email: 'TAKEN@Example.com', password }, asService());
    expect(again.status).toBe(409);
    expect(again.body?.error).toMatchObject({ code: 'conflict', details: { field: 'email' } });
    expect(again.body?.error.message).toContain('taken@example.com');
  });

  it('the password goes through the sign-up rules', async () => {
    for (const weak of ['short', 'password', 'weakrule@example.com', '        ']) {
      const answer = await call(
        'POST',
        '/v1/admin/users',
        { email: 'weakrule@example.com', password: weak },
        asService(),
      );
      expect({ weak, status: answer.status, field: answer.body?.error.details.field }).toEqual({
        weak,
        status: 400,
        field: 'password',
      });
    }
    const list = await call('GET', '/v1/admin/users?emailPrefix=weakrule', undefined, asService());
    expect(list.body?.total).toBe(0);
  });

  it('an unknown user is a 404 that names the id', async () => {
    const id = randomUUID();
    const answer = await call('GET', `/v1/admin/users/${id}`, undefined, asService());
    expect(answer.status).toBe(404);
    expect(answer.body?.error.message).toContain(id);
    expect(answer.body?.error.details).toMatchObject({ field: 'userId' });
  });
});

describe('admin.updateUser: email and metadata', () => {
  it('changes the email: the new one signs in, the old one does not', async () => {
    const user = await created('old-address@example.com');
    const changed = await call(
      'PATCH',
      `/v1/admin/users/${user.id}`,
      { email: 'New-Address@example.com' },
      asService(),
    );
    expect(changed.status).toBe(200);
    expect(changed.body?.user).toMatchObject({ email: 'new-address@example.com', emailVerified: true });
    expect((await signIn('new-address@example.com')).status).toBe(200);
    expect((await signIn('old-address@example.com')).status).toBe(401);
  });

  it('replaces metadata whole', async () => {
    const user = await created('metadata@example.com', { metadata: { a: 1, b: 2 } });
    const changed = await call('PATCH', `/v1/admin/users/${user.id}`, { metadata: { c: [1, 2] } }, asService());
    expect(changed.body?.user.metadata).toEqual({ c: [1, 2] });
    expect((await call('GET', `/v1/admin/users/${user.id}`, undefined, asService())).body?.user.metadata).toEqual({
      c: [1, 2],
    });
  });

  it('a taken email is a 409 and changes nothing, not even metadata sent with it', async () => {
    await created('holder@example.com');
    const user = await created('mover@example.com', { metadata: { keep: true } });
    const answer = await call(
      'PATCH',
      `/v1/admin/users/${user.id}`,
      { email: 'HOLDER@example.com', metadata: { keep: false } },
      asService(),
    );
    expect(answer.status).toBe(409);
    expect(answer.body?.error.details).toMatchObject({ field: 'email' });
    expect((await call('GET', `/v1/admin/users/${user.id}`, undefined, asService())).body?.user).toMatchObject({
      email: 'mover@example.com',
      metadata: { keep: true },
    });
  });

  it('an unknown user is a 404 for an email or metadata change too', async () => {
    for (const body of [{ email: 'nobody-here@example.com' }, { metadata: {} }]) {
      const answer = await call('PATCH', `/v1/admin/users/${randomUUID()}`, body, asService());
      expect(answer.status).toBe(404);
    }
  });

  it('disabled keeps working alongside the new fields', async () => {
    const user = await created('disable-too@example.com');
    const signedIn = await signIn('disable-too@example.com');
    const answer = await call(
      'PATCH',
      `/v1/admin/users/${user.id}`,
      { disabled: true, metadata: { why: 'abuse' } },
      asService(),
    );
    expect(answer.body).toMatchObject({ user: { disabled: true, metadata: { why: 'abuse' } }, revokedSessions: 1 });
    expect(await me(signedIn.accessToken)).toBe(401);
  });
});

describe('sessions and deletion', () => {
  it('admin.revokeAllSessions ends every session of that user only', async () => {
    const ada = await created('revoke-all@example.com');
    const one = await signIn('revoke-all@example.com');
    const two = await signIn('revoke-all@example.com');
    await created('bystander@example.com');
    const other = await signIn('bystander@example.com');
    for (const token of [one.accessToken, two.accessToken]) expect(await me(token)).toBe(200);
    const answer = await call('DELETE', `/v1/admin/users/${ada.id}/sessions`, undefined, asService());
    expect(answer.body).toEqual({ revokedSessions: 2 });
    expect(await me(one.accessToken)).toBe(401);
    expect(await me(two.accessToken)).toBe(401);
    expect(await me(other.accessToken)).toBe(200);
    expect((await call('DELETE', `/v1/admin/users/${ada.id}/sessions`, undefined, asService())).body).toEqual({
      revokedSessions: 0,
    });
  });

  it('a live access token is refused (401) on the very next request after its user is deleted', async () => {
    const user = await created('deleted-live@example.com');
    const signedIn = await signIn('deleted-live@example.com');
    // Twice, so the session check is cached: the delete must reach the cache, not only the table.
    expect(await me(signedIn.accessToken)).toBe(200);
    expect(await me(signedIn.accessToken)).toBe(200);
    const deleted = await call('DELETE', `/v1/admin/users/${user.id}`, undefined, asService());
    expect(deleted.body).toEqual({ deleted: true, revokedSessions: 1 });
    const after = await call('GET', '/v1/auth/me', undefined, bearer(signedIn.accessToken));
    expect(after.status).toBe(401);
    expect((await call('GET', `/v1/admin/users/${user.id}`, undefined, asService())).status).toBe(404);
  });
});

describe('hostile input', () => {
  const expectField = (answer: Awaited<ReturnType<typeof call>>, field: string, what: string) => {
    expect({ what, status: answer.status, field: answer.body?.error?.details?.field }).toEqual({
      what,
      status: 400,
      field,
    });
  };

  it('admin.listUsers: bad limit, status, cursor, prefix and unknown parameters are 400s naming the field', async () => {
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['status=suspended', 'status'],
      ['status=', 'status'],
      ['cursor=not%20a%20cursor', 'cursor'],
      ['cursor=', 'cursor'],
      [`cursor=${forged}`, 'cursor'],
      [`cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor'],
      [`cursor=${'A'.repeat(500)}`, 'cursor'],
      // A date that does not exist: Date.parse moves it to March, PostgreSQL would refuse it.
      [
        `cursor=${Buffer.from(JSON.stringify(['2026-02-30T10:00:00.000000Z', '6f1c1f3e-6a43-4c57-9d7e-2b8c3a0d5e11'])).toString('base64url')}`,
        'cursor',
      ],
      ['emailPrefix=a%00b', 'emailPrefix'],
      [`emailPrefix=${'a'.repeat(255)}`, 'emailPrefix'],
      ['emailPrefix=', 'emailPrefix'],
    ];
    for (const [query, field] of cases)
      expectField(await call('GET', `/v1/admin/users?${query}`, undefined, asService()), field, query);
    // An unknown parameter is refused, never ignored: a typo must not silently list everyone.
    const unknown = await call('GET', '/v1/admin/users?emailprefix=ada', undefined, asService());
    expectField(unknown, '(root)', 'unknown parameter');
    expect(unknown.body?.error.message).toContain('emailprefix');
  });

  it('admin.getUser and revokeAllSessions: a malformed id is a 400 naming userId', async () => {
    for (const id of ['not-a-uuid', `${randomUUID()}x`, "1' OR '1'='1", '%00']) {
      expectField(await call('GET', `/v1/admin/users/${encodeURIComponent(id)}`, undefined, asService()), 'userId', id);
      expectField(
        await call('DELETE', `/v1/admin/users/${encodeURIComponent(id)}/sessions`, undefined, asService()),
        'userId',
        id,
      );
    }
  });

  it('admin.createUser: wrong types, unknown fields, oversized and deeply nested bodies are 4xx naming the field', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < maxJsonDepth + 5; i++) deep = { a: deep };
    const cases: [unknown, string][] = [
      [{}, 'email'],
      [{ email: 42 }, 'email'],
      [{ email: 'not an email' }, 'email'],
      [{ email: `${'a'.repeat(250)}@example.com` }, 'email'],
      [{ email: ['a@example.com'] }, 'email'],
      [{ email: 'types@example.com', password: 12345678 }, 'password'],
      [{ email: 'types@example.com', password: 'x'.repeat(2000) }, 'password'],
      [{ email: 'types@example.com', emailConfirmed: 'yes' }, 'emailConfirmed'],
      [{ email: 'types@example.com', metadata: [1, 2] }, 'metadata'],
      [{ email: 'types@example.com', metadata: 'text' }, 'metadata'],
      [{ email: 'types@example.com', metadata: null }, 'metadata'],
      [{ email: 'types@example.com', metadata: { big: 'x'.repeat(16 * 1024) } }, 'metadata'],
      [{ email: 'types@example.com', id: randomUUID() }, '(root)'],
      [{ email: 'types@example.com', disabled: false }, '(root)'],
    ];
    for (const [body, field] of cases) {
      const answer = await call('POST', '/v1/admin/users', body, asService());
      expectField(answer, field, JSON.stringify(body).slice(0, 80));
      // An unknown field is named in the message: `(root): unexpected key(s) id`.
      if (field === '(root)') expect(answer.body?.error.message).toContain(Object.keys(body as object)[1]);
    }
    const nested = await call('POST', '/v1/admin/users', { email: 'deep@example.com', metadata: deep }, asService());
    expect(nested.status).toBe(400);
    expect(String(nested.body?.error.details.field)).toMatch(/^metadata/);
    const array = await call('POST', '/v1/admin/users', [{ email: 'array@example.com' }], asService());
    expectField(array, '(root)', 'array body');
    const huge = await call(
      'POST',
      '/v1/admin/users',
      { email: 'huge@example.com', metadata: { x: 'y'.repeat(2_000_000) } },
      asService(),
    );
    expect(huge.status).toBe(413);
    expect(huge.body?.error.details.field).toBe('(body)');
    const list = await call('GET', '/v1/admin/users?emailPrefix=types%40', undefined, asService());
    expect(list.body?.total).toBe(0);
  });

  it('metadata of exactly 16 KiB is accepted; one byte more is refused (multi-byte characters counted as bytes)', async () => {
    const wrapper = JSON.stringify({ k: '' }).length;
    const fits = await call(
      'POST',
      '/v1/admin/users',
      { email: 'fits@example.com', metadata: { k: 'x'.repeat(16 * 1024 - wrapper) } },
      asService(),
    );
    expect(fits.status).toBe(200);
    const over = await call(
      'POST',
      '/v1/admin/users',
      { email: 'over@example.com', metadata: { k: 'é'.repeat((16 * 1024 - wrapper) / 2 + 1) } },
      asService(),
    );
    expectField(over, 'metadata', 'two-byte characters');
  });

  it('admin.updateUser: bad email and metadata are 400s naming the field', async () => {
    const user = await created('hostile-update@example.com');
    const cases: [unknown, string][] = [
      [{ email: 7 }, 'email'],
      [{ email: 'nope' }, 'email'],
      [{ email: null }, 'email'],
      [{ metadata: [] }, 'metadata'],
      [{ metadata: { big: 'x'.repeat(17_000) } }, 'metadata'],
      [{ disabled: 'true' }, 'disabled'],
    ];
    for (const [body, field] of cases)
      expectField(await call('PATCH', `/v1/admin/users/${user.id}`, body, asService()), field, JSON.stringify(body));
    expect((await call('GET', `/v1/admin/users/${user.id}`, undefined, asService())).body?.user).toMatchObject({
      email: 'hostile-update@example.com',
      metadata: {},
    });
  });

  it('a __proto__ key in metadata is stored as data and pollutes nothing', async () => {
    const body = `{"email":"proto@example.com","metadata":{"__proto__":{"polluted":true},"ok":1}}`;
    const response = await fetch(`${server().url}/v1/admin/users`, {
      method: 'POST',
      headers: { ...asService(), 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('concurrent creates of one email: exactly one wins, the rest are 409', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('POST', '/v1/admin/users', { email: i % 2 ? 'race@example.com' : 'RACE@example.com' }, asService()),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(19);
  });

  it('concurrent moves of two users to one email: exactly one wins, the other is a 409', async () => {
    const a = await created('race-a@example.com');
    const b = await created('race-b@example.com');
    const answers = await Promise.all(
      [a, b].map((user) =>
        call('PATCH', `/v1/admin/users/${user.id}`, { email: 'race-target@example.com' }, asService()),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const found = await call('GET', '/v1/admin/users?emailPrefix=race-target', undefined, asService());
    expect(found.body?.total).toBe(1);
  });
});
