import * as z from 'zod/mini';
import { apiKeyScopes } from '../route.js';
import { userSchema } from './auth.schemas.js';

const userId = z.string().check(z.uuid());

/** A session as an administrator sees it: enough to recognise and revoke it, nothing secret. */
export const adminSessionSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  refreshedAt: z.string(),
});

/** A user as an administrator sees them: the public record plus whether the account is disabled. */
export const adminUserSchema = z.object({ ...userSchema.def.shape, disabled: z.boolean() });

export const adminListSessionsSchemas = {
  request: z.object({ userId }),
  response: z.object({ sessions: z.array(adminSessionSchema) }),
};

export const adminRevokeSessionSchemas = {
  request: z.object({ userId, id: z.string().check(z.uuid()) }),
  response: z.object({ revoked: z.boolean() }),
};

export const adminUpdateUserSchemas = {
  /** `disabled: true` disables the account and revokes all its sessions; `false` enables it again. */
  request: z.object({ userId, disabled: z.optional(z.boolean()) }),
  response: z.object({ user: adminUserSchema, revokedSessions: z.number() }),
};

export const adminDeleteUserSchemas = {
  request: z.object({ userId }),
  response: z.object({ deleted: z.boolean(), revokedSessions: z.number() }),
};

/**
 * An API key as the admin routes describe it: never the key or its hash. `createdBy` is who made
 * it (the service key, another API key by id, or `plinth keys create` on the server's machine),
 * as the server recorded it; no request can choose it.
 */
export const apiKeyInfoSchema = z.object({
  id: z.string(),
  /** The 8 characters after `ak_`: how people tell keys apart (`plinth keys revoke <prefix>`). */
  prefix: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(apiKeyScopes)),
  createdAt: z.string(),
  createdBy: z.object({ kind: z.enum(['service_key', 'api_key', 'cli']), keyId: z.nullable(z.string()) }),
  expiresAt: z.nullable(z.string()),
  revokedAt: z.nullable(z.string()),
  /** Updated at most once a minute per key. */
  lastUsedAt: z.nullable(z.string()),
});

// No control characters: names are printed by `plinth keys list` and shown in dashboards.
const apiKeyName = z.string().check(z.minLength(1), z.maxLength(100), z.regex(/^[^\p{Cc}]+$/u));

export const adminCreateApiKeySchemas = {
  /**
   * Strict: a field this route does not know (`owner`, `createdBy`) is refused, never ignored,
   * so nobody can believe they chose the key's owner. `expiresAt` is an ISO 8601 time in the
   * future; without it the key lasts until revoked.
   */
  request: z.strictObject({
    name: apiKeyName,
    scopes: z.array(z.enum(apiKeyScopes)).check(z.minLength(1), z.maxLength(apiKeyScopes.length)),
    expiresAt: z.optional(z.iso.datetime({ offset: true })),
  }),
  response: z.object({
    apiKey: apiKeyInfoSchema,
    /** `ak_<prefix>_<secret>`: shown in this answer only; the server keeps a SHA-256 of it. */
    key: z.string(),
  }),
};

export const adminListApiKeysSchemas = {
  request: z.object({}),
  response: z.object({ apiKeys: z.array(apiKeyInfoSchema) }),
};

export const adminRevokeApiKeySchemas = {
  request: z.object({ keyId: z.string().check(z.uuid()) }),
  response: z.object({ apiKey: apiKeyInfoSchema }),
};

/** A session as `admin.listSessions` returns it. */
export type AdminSession = z.output<typeof adminSessionSchema>;
/** A user as the admin routes return them. */
export type AdminUser = z.output<typeof adminUserSchema>;
/** An API key as the admin routes describe it. */
export type ApiKeyInfo = z.output<typeof apiKeyInfoSchema>;
