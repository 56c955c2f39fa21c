import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import type { Queryable } from '../../src/database/database.js';
import { openDatabase } from '../../src/database/open-database.js';
import { parseExpiresIn } from '../../src/keys/api-key-commands.js';
import { apiKeyAuthenticator, apiKeyPrefix, generateApiKey, lastUsedIntervalMs } from '../../src/keys/api-keys.js';
import { useCliIo } from '../fixtures/cli-io.js';

describe('API key shape', () => {
  it('is ak_, 8 letters or digits, _, and 256 random bits in base64url', () => {
    const { key, prefix, hash } = generateApiKey();
    expect(key).toMatch(/^ak_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(12), 'base64url')).toHaveLength(32);
    expect(apiKeyPrefix(key)).toBe(prefix);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Array.from({ length: 200 }, () => generateApiKey().prefix)).size).toBe(200);
  });

  it('parses only well-formed keys', () => {
    const { key } = generateApiKey();
    for (const bad of [
      'ak_',
      'ak__x',
      key.slice(0, 11),
      `${key}x`,
      key.slice(0, -1),
      `sk_${key.slice(3)}`,
      `ak_-bcdefgh_${key.slice(12)}`,
    ])
      expect(apiKeyPrefix(bad), bad).toBeUndefined();
  });
});

describe('last use', () => {
  // A database that knows one active key and counts the writes to last_used_at.
  function fakeDatabase(key: string) {
    const stored = createHash('sha256').update(key).digest('hex');
    const writes: string[] = [];
    const db: Queryable = {
      async query<Row>(text: string, params?: readonly unknown[]) {
        if (text.includes('UPDATE plinth.api_keys SET last_used_at')) {
          writes.push(String(params?.[0]));
          return [] as Row[];
        }
        return [{ id: 'k1', key_hash: stored, scopes: 'data:read', expired: false, revoked: false }] as Row[];
      },
    } as Queryable;
    return { db, writes };
  }

  it('is written at most once a minute per key, not on every request', async () => {
    const { key } = generateApiKey();
    const { db, writes } = fakeDatabase(key);
    let now = 1_000_000;
    const authenticate = apiKeyAuthenticator(db, { now: () => now });
    for (let i = 0; i < 50; i++) expect(await authenticate(key)).toMatchObject({ id: 'k1', scopes: ['data:read'] });
    expect(writes).toEqual(['k1']);
    now += lastUsedIntervalMs - 1;
    await authenticate(key);
    expect(writes).toHaveLength(1);
    now += 1;
    await authenticate(key);
    expect(writes).toHaveLength(2);
  });

  it('a failing write is reported, and the key still works', async () => {
    const { key } = generateApiKey();
    const { db } = fakeDatabase(key);
    const failing: Queryable = {
      ...db,
      query: (async (text: string, params?: readonly unknown[]) => {
        if (text.startsWith('UPDATE')) throw new Error('disk full');
        return db.query(text, params);
      }) as Queryable['query'],
    };
    const errors: unknown[] = [];
    const authenticate = apiKeyAuthenticator(failing, { onError: (error) => errors.push(error) });
    expect(await authenticate(key)).toMatchObject({ id: 'k1' });
    expect(errors).toHaveLength(1);
  });
});

describe('plinth keys create|list|revoke', () => {
  const io = useCliIo('plinth-keys-');

  it('creates a key shown once, lists it, and revokes it by prefix, offline', async () => {
    const { cli, out, err, cwd } = io();
    expect(
      await runCli(['keys', 'create', '--name', 'nightly', '--scopes', 'data:read,admin', '--expires-in', '30d'], cli),
    ).toBe(0);
    const key = out.find((line) => line.startsWith('ak_')) as string;
    const prefix = apiKeyPrefix(key) as string;
    expect(prefix).toBeDefined();
    expect(out[0]).toContain(`API key ${prefix} (data:read,admin, expires `);

    out.length = 0;
    expect(await runCli(['keys', 'list'], cli)).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(new RegExp(`^${prefix}  active .*data:read,admin .*nightly$`));
    expect(out.join('\n')).not.toContain(key.slice(12));

    const database = await openDatabase(join(cwd, '.plinth', 'data'));
    try {
      const authenticate = apiKeyAuthenticator(database);
      expect(await authenticate(key)).toMatchObject({ prefix, scopes: ['data:read', 'admin'] });
      const [row] = await database.query<{ created_by: string }>('SELECT created_by FROM plinth.api_keys');
      expect(row?.created_by).toBe('cli');
    } finally {
      await database.close();
    }

    out.length = 0;
    expect(await runCli(['keys', 'revoke', prefix], cli)).toBe(0);
    expect(out[0]).toContain(`API key ${prefix} revoked`);
    expect(await runCli(['keys', 'revoke', 'Zzzzzzzz'], cli)).toBe(1);
    expect(err[0]).toMatch(/no API key has prefix Zzzzzzzz/);
    out.length = 0;
    expect(await runCli(['keys', 'list'], cli)).toBe(0);
    expect(out[0]).toMatch(new RegExp(`^${prefix}  revoked`));
  }, 60_000);

  it('refuses bad arguments with one line naming the option, exit 2, before opening the database', async () => {
    const cases: [string[], RegExp][] = [
      [['keys', 'create', '--scopes', 'admin'], /^plinth: --name: /],
      [['keys', 'create', '--name', 'x'], /^plinth: --scopes: /],
      [['keys', 'create', '--name', 'x', '--scopes', 'admin,root'], /^plinth: --scopes: "root" is not a scope/],
      [['keys', 'create', '--name', 'x', '--scopes', 'admin', '--expires-in', 'soon'], /^plinth: --expires-in: /],
      [['keys', 'create', '--name', 'x', '--scopes', 'admin', '--owner', 'cli'], /^plinth: --owner: not an option/],
      [['keys', 'create', '--name'], /^plinth: --name: needs a value/],
      [['keys', 'revoke', '--all'], /^plinth: revoke: give the key's 8-character prefix/],
      [['keys', 'burn'], /^plinth: keys: use plinth keys create/],
    ];
    for (const [args, message] of cases) {
      const { cli, err, out, cwd } = io();
      expect(await runCli(args, cli), args.join(' ')).toBe(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(message);
      expect(out).toEqual([]);
      expect(existsSync(join(cwd, '.plinth'))).toBe(false);
    }
  });

  it('reads --expires-in as minutes, hours, days or weeks, from 1 minute to 10 years', () => {
    expect(parseExpiresIn('30d')).toBe(30 * 86_400);
    expect(parseExpiresIn('2w')).toBe(14 * 86_400);
    expect(parseExpiresIn('90m')).toBe(5400);
    for (const bad of ['0m', '30', 'd', '30s', '-1d', '4000w', '1.5d'])
      expect(() => parseExpiresIn(bad), bad).toThrow(/--expires-in/);
  });
});
