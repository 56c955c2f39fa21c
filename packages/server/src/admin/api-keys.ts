import { adminCreateApiKeyRoute, adminListApiKeysRoute, adminRevokeApiKeyRoute } from '@plinth/protocol';
import { audit } from '../audit/audit-log.js';
import type { Caller } from '../http/caller.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import { assertScopes } from '../http/scope-check.js';
import { type ApiKeyOwner, createApiKey, listApiKeys, revokeApiKey } from '../keys/api-keys.js';

const maxLifetimeMs = 10 * 365 * 24 * 3600 * 1000;

// The owner is the caller as the guard established it; the request schema is strict, so a body
// cannot even name one.
const ownerOf = (caller: Caller): ApiKeyOwner =>
  caller.kind === 'service' && caller.apiKey ? { kind: 'api_key', keyId: caller.apiKey.id } : { kind: 'service_key' };

function expiry(expiresAt: string | undefined): Date | undefined {
  if (expiresAt === undefined) return undefined;
  const at = new Date(expiresAt);
  const now = Date.now();
  if (at.getTime() <= now)
    throw new HttpError(
      'validation_failed',
      'expiresAt: must be in the future; leave it out for a key without expiry.',
      {
        field: 'expiresAt',
      },
    );
  if (at.getTime() - now > maxLifetimeMs)
    throw new HttpError('validation_failed', 'expiresAt: must be at most 10 years from now.', { field: 'expiresAt' });
  return at;
}

/**
 * `POST /v1/admin/api-keys`: makes a key owned by the caller. An API key may only hand on
 * scopes it holds itself, so an `admin` key cannot mint a key with more than it has.
 */
export const adminCreateApiKeyHandler = defineHandler(
  adminCreateApiKeyRoute,
  async ({ input, caller, services, context }) => {
    assertScopes(caller, input.scopes, adminCreateApiKeyRoute);
    const expiresAt = expiry(input.expiresAt);
    const owner = ownerOf(caller);
    const created = await services.database.transaction(async (tx) => {
      const made = await createApiKey(tx, { name: input.name, scopes: input.scopes, expiresAt, owner });
      await audit(tx, 'admin.api_key_created', {
        context,
        details: { keyId: made.apiKey.id, prefix: made.apiKey.prefix, scopes: made.apiKey.scopes, owner },
      });
      return made;
    });
    return { apiKey: created.apiKey, key: created.key };
  },
);

/** `GET /v1/admin/api-keys`: every key, newest first; never a key or its hash. */
export const adminListApiKeysHandler = defineHandler(adminListApiKeysRoute, async ({ services }) => ({
  apiKeys: await listApiKeys(services.database),
}));

/** `DELETE /v1/admin/api-keys/:keyId`: revokes a key; the next request with it is a 401. */
export const adminRevokeApiKeyHandler = defineHandler(
  adminRevokeApiKeyRoute,
  async ({ input, caller, services, context }) => {
    const revoked = await services.database.transaction(async (tx) => {
      const apiKey = await revokeApiKey(tx, { id: input.keyId });
      if (apiKey)
        await audit(tx, 'admin.api_key_revoked', {
          context,
          details: { keyId: apiKey.id, prefix: apiKey.prefix, by: ownerOf(caller) },
        });
      return apiKey;
    });
    if (!revoked)
      throw new HttpError('not_found', `No API key has id ${input.keyId}; GET /v1/admin/api-keys lists them.`);
    return { apiKey: revoked };
  },
);
