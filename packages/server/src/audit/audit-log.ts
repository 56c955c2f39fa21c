import type { Queryable } from '../database/database.js';

/** Audited actions. Never put a secret, token or password in `details`. */
export type AuditAction =
  | 'auth.sign_up'
  | 'auth.sign_in'
  | 'auth.sign_in_failed'
  | 'auth.sign_out'
  | 'auth.refresh'
  | 'auth.refresh_reuse'
  | 'auth.password_changed'
  | 'auth.password_reset'
  | 'auth.email_verified'
  | 'auth.magic_link_used'
  | 'auth.oauth_linked'
  | 'auth.oauth_code_reuse'
  | 'admin.session_revoked'
  | 'admin.sessions_revoked'
  | 'admin.user_created'
  | 'admin.user_updated'
  | 'admin.user_disabled'
  | 'admin.user_enabled'
  | 'admin.user_deleted'
  | 'admin.api_key_created'
  | 'admin.api_key_revoked'
  | 'admin.secret_put'
  | 'admin.secret_deleted'
  | 'admin.webhook_created'
  | 'admin.webhook_updated'
  | 'admin.webhook_deleted'
  | 'admin.webhook_secret_rotated'
  | 'admin.webhook_redelivered';

/**
 * Appends to the audit log (UTC timestamps by the database).
 *
 * @example
 * ```ts
 * await audit(database, 'auth.sign_in', { userId, requestId });
 * ```
 */
export async function audit(
  db: Queryable,
  action: AuditAction,
  entry: { userId?: string | undefined; requestId?: string; details?: Record<string, unknown> },
): Promise<void> {
  await db.query(
    'INSERT INTO plinth.audit_log (action, user_id, request_id, details) VALUES ($1, $2, $3, $4::text::jsonb)',
    [action, entry.userId ?? null, entry.requestId ?? null, JSON.stringify(entry.details ?? {})],
  );
}
