import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { type ApiKeyInfo, type ApiKeyScope, apiKeyScopes, keyPrefixes } from '@plinth/protocol';
import type { Queryable } from '../database/database.js';
import { HttpError } from '../http/http-error.js';

/** An API key as the guard established it: who it is and what it may do. */
export interface ApiKeyIdentity {
  readonly id: string;
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
}

/** Who made a key. Always the caller of the route (or the CLI), never a field of a request. */
export type ApiKeyOwner = { kind: 'service_key' } | { kind: 'cli' } | { kind: 'api_key'; keyId: string };

// `ak_` + 8 letters or digits + `_` + 32 random bytes in base64url (43 characters). The prefix
// has no `-` or `_`, so `plinth keys revoke <prefix>` never reads as an option and the key
// splits one way only.
const apiKeyShape = /^ak_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;
const prefixAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** How often, at most, a key's `last_used_at` is written: not on every request. */
export const lastUsedIntervalMs = 60_000;

const sha256 = (key: string) => createHash('sha256').update(key).digest();

/**
 * A new API key: `ak_<prefix>_<secret>`, 256 random bits of secret, and the SHA-256 the server
 * stores instead of it.
 *
 * @example
 * ```ts
 * const { key, prefix, hash } = generateApiKey(); // key: 'ak_Q3x9LmT2_…' (55 characters)
 * ```
 */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  let prefix = '';
  for (let i = 0; i < 8; i++) prefix += prefixAlphabet[randomInt(prefixAlphabet.length)];
  const key = `${keyPrefixes.apiKey}${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: sha256(key).toString('hex') };
}

/**
 * The display prefix of a well-formed API key, or undefined for anything else (`ak_`, a key
 * without its secret, a key too long, characters outside base64url).
 *
 * @example
 * ```ts
 * apiKeyPrefix('ak_Q3x9LmT2_' + 'x'.repeat(43)); // 'Q3x9LmT2'
 * apiKeyPrefix('ak__x'); // undefined
 * ```
 */
export function apiKeyPrefix(key: string): string | undefined {
  return apiKeyShape.exec(key)?.[1];
}

interface ApiKeyRow {
  id: string;
  prefix: string;
  name: string;
  scopes: string;
  created_by: ApiKeyOwner['kind'];
  created_by_key_id: string | null;
  created_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  last_used_at: Date | string | null;
}

// Scopes travel as one space-separated string: the same on PGlite and postgres.js, whose array
// decoding differs.
const columns = `id, prefix, name, array_to_string(scopes, ' ') AS scopes, created_by, created_by_key_id,
  created_at, expires_at, revoked_at, last_used_at`;

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

const info = (row: ApiKeyRow): ApiKeyInfo => ({
  id: row.id,
  prefix: row.prefix,
  name: row.name,
  scopes: row.scopes.split(' ') as ApiKeyScope[],
  createdAt: iso(row.created_at) as string,
  createdBy: { kind: row.created_by, keyId: row.created_by_key_id },
  expiresAt: iso(row.expires_at),
  revokedAt: iso(row.revoked_at),
  lastUsedAt: iso(row.last_used_at),
});

/**
 * Stores a new API key and answers it once, with its description. Scopes are kept in the
 * order of `apiKeyScopes`, each once.
 *
 * @example
 * ```ts
 * const { key } = await createApiKey(database, { name: 'ci', scopes: ['data:read'], owner: { kind: 'cli' } });
 * ```
 */
export async function createApiKey(
  db: Queryable,
  request: { name: string; scopes: readonly ApiKeyScope[]; expiresAt?: Date | undefined; owner: ApiKeyOwner },
): Promise<{ key: string; apiKey: ApiKeyInfo }> {
  const scopes = apiKeyScopes.filter((scope) => request.scopes.includes(scope));
  // A prefix taken already (one in 2^47 for two keys) only costs another draw.
  for (let attempt = 0; ; attempt++) {
    const { key, prefix, hash } = generateApiKey();
    const [row] = await db.query<ApiKeyRow>(
      `INSERT INTO plinth.api_keys (prefix, key_hash, name, scopes, created_by, created_by_key_id, expires_at)
       VALUES ($1, $2, $3, string_to_array($4, ' '), $5, $6, $7)
       ON CONFLICT (prefix) DO NOTHING
       RETURNING ${columns}`,
      [
        prefix,
        hash,
        request.name,
        scopes.join(' '),
        request.owner.kind,
        request.owner.kind === 'api_key' ? request.owner.keyId : null,
        request.expiresAt?.toISOString() ?? null,
      ],
    );
    if (row) return { key, apiKey: info(row) };
    if (attempt >= 3) throw new Error('Could not find a free API-key prefix after 4 draws.');
  }
}

/**
 * Every API key, newest first, revoked and expired ones included.
 *
 * @example
 * ```ts
 * for (const key of await listApiKeys(database)) console.log(key.prefix, key.name);
 * ```
 */
export async function listApiKeys(db: Queryable): Promise<ApiKeyInfo[]> {
  const rows = await db.query<ApiKeyRow>(`SELECT ${columns} FROM plinth.api_keys ORDER BY created_at DESC, id`);
  return rows.map(info);
}

/**
 * Revokes the key with this id or display prefix, at once. Revoking a revoked key keeps its
 * first revocation time. Undefined when there is no such key.
 *
 * @example
 * ```ts
 * const revoked = await revokeApiKey(database, { prefix: 'Q3x9LmT2' });
 * ```
 */
export async function revokeApiKey(
  db: Queryable,
  which: { id: string } | { prefix: string },
): Promise<ApiKeyInfo | undefined> {
  const [row] = await db.query<ApiKeyRow>(
    `UPDATE plinth.api_keys SET revoked_at = coalesce(revoked_at, now())
      WHERE ${'id' in which ? 'id = $1' : 'prefix = $1'}
      RETURNING ${columns}`,
    ['id' in which ? which.id : which.prefix],
  );
  return row ? info(row) : undefined;
}

/**
 * The guard's check of an `ak_` bearer: the key's identity when it is active, undefined when it
 * is malformed or unknown (the guard then answers its usual 401), and a 401 that says why when
 * the key was revoked or has expired. The stored hash is compared in constant time. The key's
 * `last_used_at` is written at most once a minute per key and instance (and, across instances,
 * only when the stored time is a minute old), never on every request.
 *
 * @example
 * ```ts
 * const authenticators = { apiKey: apiKeyAuthenticator(database, logger) };
 * ```
 */
export function apiKeyAuthenticator(
  db: Queryable,
  options: { onError?: (error: unknown) => void; now?: () => number } = {},
): (key: string) => Promise<ApiKeyIdentity | undefined> {
  const now = options.now ?? Date.now;
  const touchedAt = new Map<string, number>();

  async function touch(id: string): Promise<void> {
    const at = now();
    const last = touchedAt.get(id);
    if (last !== undefined && at - last < lastUsedIntervalMs) return;
    touchedAt.set(id, at);
    try {
      await db.query(
        `UPDATE plinth.api_keys SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [id],
      );
    } catch (error) {
      // Bookkeeping only: a failed write must not refuse a valid key.
      options.onError?.(error);
    }
  }

  return async (key) => {
    const prefix = apiKeyPrefix(key);
    if (prefix === undefined) return undefined;
    const [row] = await db.query<{
      id: string;
      key_hash: string;
      scopes: string;
      expired: boolean;
      revoked: boolean;
    }>(
      `SELECT id, key_hash, array_to_string(scopes, ' ') AS scopes,
              coalesce(expires_at <= now(), false) AS expired, revoked_at IS NOT NULL AS revoked
         FROM plinth.api_keys WHERE prefix = $1`,
      [prefix],
    );
    if (!row || !timingSafeEqual(Buffer.from(row.key_hash, 'hex'), sha256(key))) return undefined;
    if (row.revoked)
      throw new HttpError(
        'unauthenticated',
        `The API key ak_${prefix}… was revoked; make a new one (plinth keys create).`,
      );
    if (row.expired)
      throw new HttpError(
        'unauthenticated',
        `The API key ak_${prefix}… has expired; make a new one (plinth keys create).`,
      );
    await touch(row.id);
    return { id: row.id, prefix, scopes: row.scopes.split(' ') as ApiKeyScope[] };
  };
}
