import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { keyPrefixes } from '@plinth/protocol';
import type { Database } from '../database/database.js';

/** The kinds of key the server issues to an app. */
export type KeyKind = 'publishable' | 'service';

/** Keys made by {@link ensureKeys} on this start: shown once, never stored in the clear. */
export interface IssuedKeys {
  publishableKey?: string;
  serviceKey?: string;
}

const prefixOf = { publishable: keyPrefixes.publishable, service: keyPrefixes.service } as const;

/** SHA-256 of a key, hex: what the database stores. */
export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * A new random key: its type prefix and 256 random bits in base64url (`sk_3q2+...`).
 *
 * @example
 * ```ts
 * generateKey('service'); // 'sk_Zk3...' (46 characters)
 * ```
 */
export function generateKey(kind: KeyKind): string {
  return prefixOf[kind] + randomBytes(32).toString('base64url');
}

/**
 * The server's keys: checks presented keys against the stored hashes (in constant time), issues
 * and rotates them. Hashes are cached and reloaded at most every `refreshMs`, so a key revoked
 * on one instance stops working on the others within that time.
 *
 * @example
 * ```ts
 * const keys = createKeyRing(database);
 * if (!(await keys.verify('service', bearer))) throw unauthenticated();
 * ```
 */
export function createKeyRing(database: Database, { refreshMs = 30_000 }: { refreshMs?: number } = {}) {
  // The active keys' hashes, and the keys that matched one since they were loaded: a key the
  // app sends on every request is hashed once per load rather than once per request (SHA-256
  // was the largest part of the key check). Only matches are kept, so the sets hold at most the
  // active keys, and they go with the hashes, so a revoked key stops working as before.
  let cache:
    | { loadedAt: number; hashes: Record<KeyKind, Buffer[]>; verified: Record<KeyKind, Set<string>> }
    | undefined;

  async function load(): Promise<NonNullable<typeof cache>> {
    const rows = await database.query<{ kind: KeyKind; key_hash: string }>(
      'SELECT kind, key_hash FROM plinth.keys WHERE revoked_at IS NULL',
    );
    const hashes: Record<KeyKind, Buffer[]> = { publishable: [], service: [] };
    for (const row of rows) hashes[row.kind].push(Buffer.from(row.key_hash, 'hex'));
    cache = { loadedAt: Date.now(), hashes, verified: { publishable: new Set(), service: new Set() } };
    return cache;
  }

  async function issue(kind: KeyKind): Promise<string> {
    const key = generateKey(kind);
    await database.query('INSERT INTO plinth.keys (kind, prefix, key_hash) VALUES ($1, $2, $3)', [
      kind,
      key.slice(0, 8),
      hashKey(key),
    ]);
    cache = undefined;
    return key;
  }

  return {
    /** True when `key` is an active key of this kind. Every stored hash is compared, in constant time. */
    async verify(kind: KeyKind, key: string): Promise<boolean> {
      if (!key.startsWith(prefixOf[kind])) return false;
      const current = cache && Date.now() - cache.loadedAt < refreshMs ? cache : await load();
      if (current.verified[kind].has(key)) return true;
      const presented = createHash('sha256').update(key).digest();
      let found = false;
      for (const stored of current.hashes[kind]) found = timingSafeEqual(stored, presented) || found;
      if (found) current.verified[kind].add(key);
      return found;
    },
    issue,
    /** Issues a new service key and revokes every older one, in one transaction. */
    async rotateServiceKey(): Promise<string> {
      const key = generateKey('service');
      await database.transaction(async (tx) => {
        await tx.query(`UPDATE plinth.keys SET revoked_at = now() WHERE kind = 'service' AND revoked_at IS NULL`);
        await tx.query(`INSERT INTO plinth.keys (kind, prefix, key_hash) VALUES ('service', $1, $2)`, [
          key.slice(0, 8),
          hashKey(key),
        ]);
      });
      cache = undefined;
      return key;
    },
  };
}

/** The server's key ring. */
export type KeyRing = ReturnType<typeof createKeyRing>;

/**
 * Makes a publishable and a service key if the database has none active (the first start), and
 * returns the raw keys it made. Later starts return nothing: only hashes are stored.
 *
 * @example
 * ```ts
 * const { serviceKey } = await ensureKeys(database, keys);
 * if (serviceKey) console.log(`Service key (shown once): ${serviceKey}`);
 * ```
 */
export async function ensureKeys(database: Database, keys: KeyRing): Promise<IssuedKeys> {
  const rows = await database.query<{ kind: KeyKind }>(
    'SELECT DISTINCT kind FROM plinth.keys WHERE revoked_at IS NULL',
  );
  const present = new Set(rows.map((row) => row.kind));
  const issued: IssuedKeys = {};
  if (!present.has('publishable')) issued.publishableKey = await keys.issue('publishable');
  if (!present.has('service')) issued.serviceKey = await keys.issue('service');
  return issued;
}
