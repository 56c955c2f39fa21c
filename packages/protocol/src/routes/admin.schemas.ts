import * as z from 'zod/mini';
import { apiKeyScopes } from '../route.js';
import { userSchema } from './auth.schemas.js';

const userId = z.string().check(z.uuid());

/** A session as an administrator sees it: enough to recognise and revoke it, nothing secret. */
export const adminSessionSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  /** When it was last seen: its sign-in or last refresh (access tokens are checked without writing). */
  refreshedAt: z.string(),
  /** The client's address at that sign-in or refresh, when known. */
  ip: z.nullable(z.string()),
  /** Its user agent then, when known (at most 512 characters). */
  userAgent: z.nullable(z.string()),
  /** A readable guess from the user agent (`Chrome on macOS`). */
  device: z.string(),
});

/** The most bytes (UTF-8 of its JSON) a user's `metadata` may take. */
export const maxUserMetadataBytes = 16 * 1024;

const utf8 = new TextEncoder();

/**
 * Free-form data an app keeps about a user (a plan, a display name): a JSON object of at most
 * {@link maxUserMetadataBytes} bytes. Replaced whole on update, never merged.
 */
export const userMetadataSchema = z
  .record(z.string(), z.unknown())
  .check(
    z.refine(
      (value) => utf8.encode(JSON.stringify(value)).byteLength <= maxUserMetadataBytes,
      `expected a JSON object of at most ${maxUserMetadataBytes} bytes; keep large data in your own tables`,
    ),
  );

/** A user as an administrator sees them: the public record, whether the account is disabled, and its metadata. */
export const adminUserSchema = z.object({
  ...userSchema.def.shape,
  disabled: z.boolean(),
  /** Signing in is refused, and every session was revoked, until this time; null when not banned. */
  bannedUntil: z.nullable(z.string()),
  metadata: z.record(z.string(), z.unknown()),
});

// The same rule as sign-up's: the server stores the canonical form (trimmed, lower case, NFC).
const email = z.string().check(z.email(), z.maxLength(254));

/** The most users one `admin.listUsers` page holds. */
export const maxUsersPage = 1000;

export const adminListUsersSchemas = {
  /**
   * `emailPrefix` matches the start of the email, case-insensitively; `status` is `active` (may
   * sign in), `disabled` or `banned` (a ban still running); `limit` is 1 to 1000 (default 100); `cursor` is the previous page's `nextCursor`,
   * opaque. Pages follow (createdAt, id), so paging through sees every user once.
   */
  request: z.strictObject({
    emailPrefix: z.optional(z.string().check(z.minLength(1), z.maxLength(254), z.regex(/^[^\p{Cc}]+$/u))),
    status: z.optional(z.enum(['active', 'disabled', 'banned'])),
    limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(maxUsersPage))),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[A-Za-z0-9_-]+$/))),
  }),
  response: z.object({
    users: z.array(adminUserSchema),
    /** Pass as `cursor` for the next page; `null` on the last page. */
    nextCursor: z.nullable(z.string()),
    /** How many users match the filters, over all pages. */
    total: z.number(),
  }),
};

export const adminGetUserSchemas = {
  request: z.object({ userId }),
  response: z.object({ user: adminUserSchema }),
};

export const adminCreateUserSchemas = {
  /**
   * Strict: an unknown field is refused. Without `password` the user signs in by magic link or
   * OAuth; `emailConfirmed: true` marks the email confirmed, with no mail sent.
   */
  request: z.strictObject({
    email,
    password: z.optional(z.string().check(z.maxLength(1024))),
    emailConfirmed: z.optional(z.boolean()),
    metadata: z.optional(userMetadataSchema),
  }),
  response: z.object({ user: adminUserSchema }),
};

export const adminInviteUserSchemas = {
  /**
   * Strict. Makes an account with no password and mails it a sign-in link (single use, 10
   * minutes, like every mailed link) to `redirectTo`, which must be on an app origin (default:
   * the first). Opening the link confirms the email and signs the user in.
   */
  request: z.strictObject({
    email,
    redirectTo: z.optional(z.string().check(z.url())),
    metadata: z.optional(userMetadataSchema),
  }),
  response: z.object({ user: adminUserSchema }),
};

export const adminCreateSignInLinkSchemas = {
  /**
   * A sign-in link for the user, answered instead of mailed, for the app to deliver its own way
   * (single use, 10 minutes). It is a credential: send it only to the user.
   */
  request: z.object({ userId, redirectTo: z.optional(z.string().check(z.url())) }),
  response: z.object({ link: z.string(), expiresAt: z.string() }),
};

export const adminListSessionsSchemas = {
  request: z.object({ userId }),
  response: z.object({ sessions: z.array(adminSessionSchema) }),
};

export const adminRevokeSessionSchemas = {
  request: z.object({ userId, id: z.string().check(z.uuid()) }),
  response: z.object({ revoked: z.boolean() }),
};

export const adminUpdateUserSchemas = {
  /**
   * `disabled: true` disables the account and revokes all its sessions; `false` enables it again.
   * `email` changes the address (409 if another account has it) and ends every link mailed
   * before; `metadata` replaces the user's metadata whole. `bannedUntil` (a time with its
   * offset) refuses sign-in until then and revokes every session now; `null` lifts a ban.
   */
  request: z.object({
    userId,
    disabled: z.optional(z.boolean()),
    bannedUntil: z.optional(z.nullable(z.iso.datetime({ offset: true }))),
    email: z.optional(email),
    metadata: z.optional(userMetadataSchema),
  }),
  response: z.object({ user: adminUserSchema, revokedSessions: z.number() }),
};

export const adminRevokeAllSessionsSchemas = {
  request: z.object({ userId }),
  response: z.object({ revokedSessions: z.number() }),
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
