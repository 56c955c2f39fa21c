import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { generateSigningKeys } from '../auth/access-token.js';
import type { Database } from '../database/database.js';

/** Secrets the server makes once and keeps in the database, shared by every instance. */
export interface ServerSecrets {
  signingKeys: { privateJwk: JWK; publicJwk: JWK };
  /** Derives each refresh token's successor (see session-service.ts). */
  refreshSecret: Buffer;
}

async function loadOrCreate<T>(database: Database, name: string, create: () => Promise<T>): Promise<T> {
  const candidate = await create();
  // Several instances may start at once: the first insert wins and everyone reads it back.
  await database.query(
    'INSERT INTO plinth.server_secrets (name, value) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO NOTHING',
    [name, JSON.stringify(candidate)],
  );
  const [row] = await database.query<{ value: T | string }>('SELECT value FROM plinth.server_secrets WHERE name = $1', [
    name,
  ]);
  if (!row) throw new Error(`server secret ${name} vanished`);
  return (typeof row.value === 'string' ? JSON.parse(row.value) : row.value) as T;
}

/**
 * Loads the server's signing keys and refresh secret, making them on the first start.
 *
 * @example
 * ```ts
 * const secrets = await loadServerSecrets(database);
 * ```
 */
export async function loadServerSecrets(database: Database): Promise<ServerSecrets> {
  const signingKeys = await loadOrCreate(database, 'access_token_signing_keys', async () => {
    const { privateJwk, publicJwk } = await generateSigningKeys();
    return { privateJwk, publicJwk };
  });
  // An object, not a bare string: drivers differ on whether a jsonb string comes back parsed.
  const refresh = await loadOrCreate(database, 'refresh_token_secret', async () => ({
    key: randomBytes(32).toString('base64'),
  }));
  return { signingKeys, refreshSecret: Buffer.from(refresh.key, 'base64') };
}
