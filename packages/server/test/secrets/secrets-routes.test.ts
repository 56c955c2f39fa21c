import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// The secrets routes end to end over real sockets: values are stored encrypted, never listed,
// never in the audit log; every bad input is a 4xx naming its field; a server without a master
// key refuses, saying how to set one.

const keys = [
  { version: 1, key: randomBytes(32).toString('base64') },
  { version: 2, key: randomBytes(32).toString('base64') },
];
const server = useTestServer({ secretsKeys: keys, secretsKeyVersion: 2 });
const keyless = useTestServer({});
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const sql = (text: string, params: unknown[] = []) => server().services.database.query(text, params);

let count = 0;
const newName = () => `TEST_SECRET_${++count}_${Date.now().toString(36)}`;

describe('secrets', () => {
  it('are stored encrypted and read back; a second put replaces the value and keeps the row', async () => {
    const name = newName();
    const value = `sk_live_${randomBytes(16).toString('hex')} ✓`;
    const put = await call('PUT', `/v1/admin/secrets/${name}`, { value }, asService());
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ created: true, secret: { name, keyVersion: 2 } });
    const [row] = (await sql('SELECT id, envelope, key_version FROM plinth.secrets WHERE name = $1', [name])) as {
      id: string;
      envelope: string;
      key_version: number;
    }[];
    expect(row?.envelope.startsWith('v1.2.')).toBe(true);
    expect(row?.envelope).not.toContain(value);
    expect(row?.envelope).not.toContain(Buffer.from(value).toString('base64'));
    const got = await call('GET', `/v1/admin/secrets/${name}`, undefined, asService());
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ value, secret: { name, keyVersion: 2 } });

    const again = await call('PUT', `/v1/admin/secrets/${name}`, { value: 'second' }, asService());
    expect(again.body).toMatchObject({ created: false });
    const [after] = (await sql('SELECT id FROM plinth.secrets WHERE name = $1', [name])) as { id: string }[];
    expect(after?.id).toBe(row?.id);
    expect((await call('GET', `/v1/admin/secrets/${name}`, undefined, asService())).body?.value).toBe('second');
  });

  // details->>'name' also pins that details are a JSON object on both databases (PostgreSQL's
  // driver once stored them as a JSON string).
  it('never put a value in the audit log', async () => {
    const name = newName();
    const value = `audit-canary-${randomBytes(8).toString('hex')}`;
    const put = await call('PUT', `/v1/admin/secrets/${name}`, { value }, asService());
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const deleted = await call('DELETE', `/v1/admin/secrets/${name}`, undefined, asService());
    expect(deleted.body).toEqual({ deleted: true });
    const rows = (await sql(
      "SELECT action, details::text AS details FROM plinth.audit_log WHERE details->>'name' = $1",
      [name],
    )) as { action: string; details: string }[];
    expect(rows.map((row) => row.action).sort()).toEqual(['admin.secret_deleted', 'admin.secret_put']);
    expect(rows.map((row) => row.details).join()).not.toContain(value);
  });

  it('are listed by name, without values, a page at a time, each once', async () => {
    const prefix = `LIST_${Date.now().toString(36)}_`;
    const names = Array.from({ length: 7 }, (_, n) => `${prefix}${n}`);
    // One name with LIKE's wildcard in it, which must not match others by pattern.
    names.push(`${prefix}_x`);
    await Promise.all(names.map((name) => call('PUT', `/v1/admin/secrets/${name}`, { value: name }, asService())));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?prefix=${prefix}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call('GET', `/v1/admin/secrets${query}`, undefined, asService());
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(JSON.stringify(page.body)).not.toContain('"value"');
      seen.push(...((page.body?.secrets ?? []) as { name: string }[]).map((secret) => secret.name));
      cursor = page.body?.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...names].sort());
    const underscore = await call('GET', `/v1/admin/secrets?prefix=${prefix}_`, undefined, asService());
    expect(((underscore.body?.secrets ?? []) as { name: string }[]).map((secret) => secret.name)).toEqual([
      `${prefix}_x`,
    ]);
  });

  it('are deleted once: a second delete says there was none, and get is a 404 naming the name', async () => {
    const name = newName();
    await call('PUT', `/v1/admin/secrets/${name}`, { value: 'x' }, asService());
    expect((await call('DELETE', `/v1/admin/secrets/${name}`, undefined, asService())).body).toEqual({ deleted: true });
    expect((await call('DELETE', `/v1/admin/secrets/${name}`, undefined, asService())).body).toEqual({
      deleted: false,
    });
    const missing = await call('GET', `/v1/admin/secrets/${name}`, undefined, asService());
    expect(missing.status).toBe(404);
    expect(missing.body?.error.details.field).toBe('name');
  });

  it('keep one row when 20 puts of one new name race, and the last value wins whole', async () => {
    const name = newName();
    const values = Array.from({ length: 20 }, (_, n) => `value-${n}`);
    const answers = await Promise.all(
      values.map((value) => call('PUT', `/v1/admin/secrets/${name}`, { value }, asService())),
    );
    expect(answers.map((answer) => answer.status)).toEqual(values.map(() => 200));
    expect(answers.filter((answer) => answer.body?.created === true)).toHaveLength(1);
    const [{ count: rows } = { count: 0 }] = (await sql(
      'SELECT count(*)::int AS count FROM plinth.secrets WHERE name = $1',
      [name],
    )) as { count: number }[];
    expect(rows).toBe(1);
    expect(values).toContain((await call('GET', `/v1/admin/secrets/${name}`, undefined, asService())).body?.value);
  });

  it('answer a 500 that names the secret, not its value, when a stored envelope was tampered with', async () => {
    const name = newName();
    await call('PUT', `/v1/admin/secrets/${name}`, { value: 'tamper-canary' }, asService());
    await sql(
      "UPDATE plinth.secrets SET envelope = regexp_replace(envelope, '\\.[^.]+$', '.AAAAAAAAAAAAAAAAAAAAAA') WHERE name = $1",
      [name],
    );
    const got = await call('GET', `/v1/admin/secrets/${name}`, undefined, asService());
    expect(got.status).toBe(500);
    expect(JSON.stringify(got.body)).not.toContain('tamper-canary');
  });

  describe('refuse bad input with a 4xx naming the field', () => {
    it.each([
      ['a name with a slash encoded', 'PUT', '/v1/admin/secrets/a%2Fb', { value: 'x' }, 'name'],
      ['a name with spaces', 'PUT', '/v1/admin/secrets/a%20b', { value: 'x' }, 'name'],
      ['a name of 129 characters', 'PUT', `/v1/admin/secrets/${'a'.repeat(129)}`, { value: 'x' }, 'name'],
      ['no value', 'PUT', '/v1/admin/secrets/OK_NAME', {}, 'value'],
      ['a value that is a number', 'PUT', '/v1/admin/secrets/OK_NAME', { value: 42 }, 'value'],
      ['a value that is an object', 'PUT', '/v1/admin/secrets/OK_NAME', { value: { nested: { deep: 1 } } }, 'value'],
      ['a value of 65 537 characters', 'PUT', '/v1/admin/secrets/OK_NAME', { value: 'x'.repeat(65_537) }, 'value'],
      ['a limit of 0', 'GET', '/v1/admin/secrets?limit=0', undefined, 'limit'],
      ['a limit of 1001', 'GET', '/v1/admin/secrets?limit=1001', undefined, 'limit'],
      ['a limit that is a word', 'GET', '/v1/admin/secrets?limit=ten', undefined, 'limit'],
      ['a prefix with a percent sign', 'GET', '/v1/admin/secrets?prefix=%25', undefined, 'prefix'],
      [
        'a forged cursor',
        'GET',
        `/v1/admin/secrets?cursor=${Buffer.from("x' OR 1=1").toString('base64url')}`,
        undefined,
        'cursor',
      ],
    ])('%s', async (_, method, path, body, field) => {
      const answer = await call(method, path, body, asService());
      expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.body?.error.details.field).toBe(field);
    });

    it('a publishable key or no key at all', async () => {
      for (const headers of [{}, { authorization: `Bearer ${server().publishableKey}` }]) {
        const answer = await call('GET', '/v1/admin/secrets', undefined, headers);
        expect(answer.status).toBe(401);
      }
    });
  });

  it('are refused by a server without a master key, which says how to set one', async () => {
    const answer = await jsonClient(() => keyless().url)(
      'PUT',
      '/v1/admin/secrets/A',
      { value: 'x' },
      {
        authorization: `Bearer ${keyless().serviceKey}`,
      },
    );
    expect(answer.status).toBe(501);
    expect(answer.body?.error.message).toMatch(/PLINTH_SECRETS_KEYS=1:/);
  });
});
