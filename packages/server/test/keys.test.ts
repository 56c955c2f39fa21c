import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../src/database/database.js';
import { openDatabase } from '../src/database/open-database.js';
import { createKeyRing, ensureKeys, generateKey, hashKey, type KeyRing } from '../src/keys/key-ring.js';

let database: Database;
let keys: KeyRing;
let issued: Awaited<ReturnType<typeof ensureKeys>>;

beforeAll(async () => {
  database = await openDatabase('memory');
  keys = createKeyRing(database, { refreshMs: 0 });
  issued = await ensureKeys(database, keys);
}, 30_000);
afterAll(() => database.close());

describe('keys', () => {
  it('carry a readable prefix and 256 random bits', () => {
    const key = generateKey('service');
    expect(key).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(generateKey('publishable')).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 100 }, () => generateKey('service'))).size).toBe(100);
  });

  it('are made on the first start only, and stored only as SHA-256 hashes', async () => {
    expect(issued.serviceKey).toMatch(/^sk_/);
    expect(issued.publishableKey).toMatch(/^pk_/);
    expect(await ensureKeys(database, keys)).toEqual({});
    const rows = await database.query<Record<string, unknown>>('SELECT * FROM plinth.keys');
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(issued.serviceKey);
    expect(stored).not.toContain(issued.publishableKey);
    expect(stored).toContain(hashKey(issued.serviceKey as string));
    expect(rows.map((row) => row.prefix).sort()).toEqual([
      (issued.publishableKey as string).slice(0, 8),
      (issued.serviceKey as string).slice(0, 8),
    ]);
  });

  it('verify only an active key of the right kind', async () => {
    const service = issued.serviceKey as string;
    expect(await keys.verify('service', service)).toBe(true);
    expect(await keys.verify('publishable', service)).toBe(false);
    expect(await keys.verify('service', issued.publishableKey as string)).toBe(false);
    expect(await keys.verify('service', `${service}x`)).toBe(false);
    expect(await keys.verify('service', generateKey('service'))).toBe(false);
  });

  it('rotating the service key revokes the old one and activates the new', async () => {
    const old = issued.serviceKey as string;
    const fresh = await keys.rotateServiceKey();
    expect(fresh).not.toBe(old);
    expect(await keys.verify('service', fresh)).toBe(true);
    expect(await keys.verify('service', old)).toBe(false);
    const active = await database.query(`SELECT 1 FROM plinth.keys WHERE kind = 'service' AND revoked_at IS NULL`);
    expect(active).toHaveLength(1);
  });

  it('a key revoked elsewhere stops working at the next reload, though it was checked before (and remembered)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const ring = createKeyRing(database, { refreshMs: 30_000 });
      const key = await ring.issue('publishable');
      expect(await ring.verify('publishable', key)).toBe(true);
      expect(await ring.verify('publishable', key)).toBe(true);
      // Another instance revokes it: this one still has it within the refresh time, as before.
      await database.query('UPDATE plinth.keys SET revoked_at = now() WHERE key_hash = $1', [hashKey(key)]);
      expect(await ring.verify('publishable', key)).toBe(true);
      vi.setSystemTime(Date.now() + 30_001);
      expect(await ring.verify('publishable', key)).toBe(false);
      // A key that never matched is never remembered as one that did.
      const other = generateKey('publishable');
      expect(await ring.verify('publishable', other)).toBe(false);
      expect(await ring.verify('publishable', other)).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
