import * as z from 'zod/mini';
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

/** A session as `admin.listSessions` returns it. */
export type AdminSession = z.output<typeof adminSessionSchema>;
/** A user as the admin routes return them. */
export type AdminUser = z.output<typeof adminUserSchema>;
