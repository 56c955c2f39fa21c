import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// Scoped API keys end to end: made, listed and revoked by the admin routes, used as a bearer on
// service routes, refused once revoked or expired, and never a 500 for a malformed one.

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const server = useTestServer({
  rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
});
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

// One GET over a plain socket with an Authorization header of exactly these bytes.
function rawGetStatus(path: string, authorization: Buffer): Promise<number> {
  const { hostname, port } = new URL(server().url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        Buffer.concat([
          Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${hostname}\r\nconnection: close\r\nauthorization: `),
          authorization,
          Buffer.from('\r\n\r\n'),
        ]),
      );
    });
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
  });
}

async function makeKey(body: Record<string, unknown>, headers = asService()) {
  const answer = await call('POST', '/v1/admin/api-keys', body, headers);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as {
    key: string;
    apiKey: { id: string; prefix: string; scopes: string[] } & Record<string, unknown>;
  };
}

describe('admin API keys', () => {
  it('makes a key shown once, stores only its SHA-256, and lists it without the key', async () => {
    const made = await makeKey({ name: 'reports', scopes: ['data:read', 'admin', 'data:read'] });
    expect(made.key).toMatch(/^ak_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(made.key.slice(3, 11)).toBe(made.apiKey.prefix);
    expect(made.apiKey).toMatchObject({
      name: 'reports',
      scopes: ['data:read', 'admin'],
      createdBy: { kind: 'service_key', keyId: null },
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });

    const [row] = await server().services.database.query<Record<string, unknown>>(
      'SELECT * FROM plinth.api_keys WHERE id = $1',
      [made.apiKey.id],
    );
    expect(row?.key_hash).toBe(createHash('sha256').update(made.key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(made.key.slice(12));

    const listed = await call('GET', '/v1/admin/api-keys', undefined, asService());
    expect(listed.status).toBe(200);
    const text = JSON.stringify(listed.body);
    expect(text).toContain(made.apiKey.prefix);
    expect(text).not.toContain(made.key.slice(12));
    expect(text).not.toContain(row?.key_hash as string);
  });

  it('works as a bearer on the routes of its scopes and records when it was last used', async () => {
    const { key, apiKey } = await makeKey({ name: 'admin bot', scopes: ['admin'] });
    const listed = await call('GET', '/v1/admin/api-keys', undefined, bearer(key));
    expect(listed.status).toBe(200);
    const self = listed.body?.apiKeys.find((k: { id: string }) => k.id === apiKey.id);
    expect(self.lastUsedAt).toEqual(expect.any(String));

    const refused = await call('GET', '/v1/schema', undefined, bearer(key));
    expect(refused.status).toBe(403);
    expect(refused.body?.error).toMatchObject({ code: 'insufficient_scope', details: { scope: 'data:read' } });
    expect(refused.body?.error.message).toContain('data:read');
  });

  it('records the caller as the owner, never a field of the body', async () => {
    for (const field of ['owner', 'createdBy', 'created_by', 'createdByKeyId']) {
      const answer = await call(
        'POST',
        '/v1/admin/api-keys',
        { name: 'sneaky', scopes: ['admin'], [field]: { kind: 'cli' } },
        asService(),
      );
      expect({ field, status: answer.status }).toEqual({ field, status: 400 });
      expect(answer.body?.error.code).toBe('validation_failed');
      expect(answer.body?.error.message).toContain(field);
    }
    const parent = await makeKey({ name: 'parent', scopes: ['admin', 'data:read'] });
    const child = await makeKey({ name: 'child', scopes: ['data:read'] }, bearer(parent.key));
    expect(child.apiKey.createdBy).toEqual({ kind: 'api_key', keyId: parent.apiKey.id });
    const [row] = await server().services.database.query<{ created_by: string; created_by_key_id: string }>(
      'SELECT created_by, created_by_key_id FROM plinth.api_keys WHERE id = $1',
      [child.apiKey.id],
    );
    expect(row).toEqual({ created_by: 'api_key', created_by_key_id: parent.apiKey.id });
  });

  it('lets an API key hand on only the scopes it holds', async () => {
    const admin = await makeKey({ name: 'admin only', scopes: ['admin'] });
    const wider = await call('POST', '/v1/admin/api-keys', { name: 'x', scopes: ['data:write'] }, bearer(admin.key));
    expect(wider.status).toBe(403);
    expect(wider.body?.error).toMatchObject({ code: 'insufficient_scope', details: { scope: 'data:write' } });
  });

  it('a revoked key is a 401 at once, and revoking again keeps the first time', async () => {
    const { key, apiKey } = await makeKey({ name: 'short-lived', scopes: ['admin'] });
    expect((await call('GET', '/v1/admin/api-keys', undefined, bearer(key))).status).toBe(200);
    const revoked = await call('DELETE', `/v1/admin/api-keys/${apiKey.id}`, undefined, asService());
    expect(revoked.status).toBe(200);
    expect(revoked.body?.apiKey.revokedAt).toEqual(expect.any(String));
    const after = await call('GET', '/v1/admin/api-keys', undefined, bearer(key));
    expect(after.status).toBe(401);
    expect(after.body?.error.code).toBe('unauthenticated');
    expect(after.body?.error.message).toContain('revoked');
    const again = await call('DELETE', `/v1/admin/api-keys/${apiKey.id}`, undefined, asService());
    expect(again.body?.apiKey.revokedAt).toBe(revoked.body?.apiKey.revokedAt);
  });

  it('an expired key is a 401 that says so', async () => {
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const { key, apiKey } = await makeKey({ name: 'expiring', scopes: ['admin'], expiresAt: soon });
    expect(apiKey.expiresAt).toBe(soon);
    expect((await call('GET', '/v1/admin/api-keys', undefined, bearer(key))).status).toBe(200);
    await server().services.database.query(
      `UPDATE plinth.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [apiKey.id],
    );
    const after = await call('GET', '/v1/admin/api-keys', undefined, bearer(key));
    expect(after.status).toBe(401);
    expect(after.body?.error.message).toContain('expired');
  });

  it('a key with a wrong secret but a real prefix is a plain 401', async () => {
    const { key } = await makeKey({ name: 'guessed', scopes: ['admin'] });
    const forged = `${key.slice(0, 12)}${'A'.repeat(43)}`;
    const answer = await call('GET', '/v1/admin/api-keys', undefined, bearer(forged));
    expect(answer.status).toBe(401);
    expect(answer.body?.error.message).not.toMatch(/revoked|expired/);
  });

  it('never answers a malformed key with a 500', async () => {
    const real = (await makeKey({ name: 'shape', scopes: ['admin'] })).key;
    const malformed = [
      'ak_',
      'ak__x',
      'ak___',
      `ak_${real.slice(3, 11)}`,
      `ak_${real.slice(3, 11)}_`,
      `${real}x`,
      real.slice(0, -1),
      `ak_${'x'.repeat(8)}_${'y'.repeat(4000)}`,
      `ak_${'\u00e9'.repeat(8)}_${'\u00ff'.repeat(43)}`,
      `ak_${real.slice(3, 11)}_${'%'.repeat(43)}`,
      `AK_${real.slice(3)}`,
      `ak_${real.slice(3, 11)} ${real.slice(12)}`,
    ];
    for (const key of malformed) {
      const answer = await call('GET', '/v1/admin/api-keys', undefined, bearer(key));
      expect({ key: key.slice(0, 20), status: answer.status }).toEqual({ key: key.slice(0, 20), status: 401 });
      expect(answer.body?.error.code).toBe('unauthenticated');
    }
    // Bytes fetch() will not send: UTF-8 beyond Latin-1, and a NUL (Node's parser refuses those
    // itself, with a 400). Either way a 4xx.
    for (const raw of [Buffer.from(`ak_${'ключ'.repeat(2)}_${'秘'.repeat(43)}`), Buffer.from('ak_\u0000x')]) {
      const status = await rawGetStatus('/v1/admin/api-keys', Buffer.concat([Buffer.from('Bearer '), raw]));
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ scopes: ['admin'] }, 'name'],
      [{ name: '', scopes: ['admin'] }, 'name'],
      [{ name: 'x'.repeat(101), scopes: ['admin'] }, 'name'],
      [{ name: 'a\u0007b', scopes: ['admin'] }, 'name'],
      [{ name: 42, scopes: ['admin'] }, 'name'],
      [{ name: 'n' }, 'scopes'],
      [{ name: 'n', scopes: [] }, 'scopes'],
      [{ name: 'n', scopes: 'admin' }, 'scopes'],
      [{ name: 'n', scopes: ['root'] }, 'scopes.0'],
      [{ name: 'n', scopes: Array(50).fill('admin') }, 'scopes'],
      [{ name: 'n', scopes: ['admin'], expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ name: 'n', scopes: ['admin'], expiresAt: 1234 }, 'expiresAt'],
      [{ name: 'n', scopes: ['admin'], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'n', scopes: ['admin'], expiresAt: '9999-01-01T00:00:00Z' }, 'expiresAt'],
    ];
    for (const [body, field] of cases) {
      const answer = await call('POST', '/v1/admin/api-keys', body, asService());
      expect({ body, status: answer.status, field: answer.body?.error.details?.field }).toEqual({
        body,
        status: 400,
        field,
      });
    }
    const notUuid = await call('DELETE', '/v1/admin/api-keys/not-a-uuid', undefined, asService());
    expect(notUuid.status).toBe(400);
    expect(notUuid.body?.error.details?.field).toBe('keyId');
    const unknown = await call(
      'DELETE',
      '/v1/admin/api-keys/00000000-0000-4000-8000-000000000000',
      undefined,
      asService(),
    );
    expect(unknown.status).toBe(404);
  });

  it('concurrent and replayed creations each make their own key', async () => {
    const body = { name: 'many', scopes: ['data:read'] };
    const made = await Promise.all(Array.from({ length: 20 }, () => makeKey(body)));
    expect(new Set(made.map((m) => m.key)).size).toBe(20);
    expect(new Set(made.map((m) => m.apiKey.prefix)).size).toBe(20);
  });

  it('concurrent revocations of one key all succeed with one revocation time', async () => {
    const { apiKey } = await makeKey({ name: 'raced', scopes: ['admin'] });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call('DELETE', `/v1/admin/api-keys/${apiKey.id}`, undefined, asService())),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.body?.apiKey.revokedAt)).size).toBe(1);
  });
});
