import type { AuditEntry } from '@plinth/protocol';
import type { Queryable } from '../database/database.js';
import type { Actor, RequestContext } from '../http/request-context.js';
import type { TimeCursor } from '../http/time-cursor.js';

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
  | 'admin.user_banned'
  | 'admin.user_unbanned'
  | 'admin.user_invited'
  | 'admin.sign_in_link_created'
  | 'admin.api_key_created'
  | 'admin.api_key_revoked'
  | 'admin.secret_put'
  | 'admin.secret_deleted'
  | 'admin.webhook_created'
  | 'admin.webhook_updated'
  | 'admin.webhook_deleted'
  | 'admin.webhook_secret_rotated'
  | 'admin.webhook_redelivered';

/** One entry's particulars. Who acted and from where come from `context`, the request being served. */
export interface AuditEntryInput {
  /** The account the action was about (for sign-in and the like, the account that acted). */
  userId?: string | undefined;
  /**
   * The request being served (its id, caller, address and user agent); `undefined` only for work
   * no request asked for. Required, so that no call site can leave it out by forgetting.
   */
  context: RequestContext | undefined;
  /** What else to record. Never a secret, token, key or password. */
  details?: Record<string, unknown> | undefined;
}

/**
 * Appends to the audit log (UTC timestamps by the database). Who acted ({@link auditActor}), from
 * which address and user agent, and in which request, are taken from `entry.context`; the target
 * comes from `userId` and `details` by {@link auditTarget}.
 *
 * @example
 * ```ts
 * await audit(database, 'auth.sign_in', { userId, context });
 * await audit(database, 'admin.secret_put', { context, details: { name } }); // target secret:<name>
 * ```
 */
export async function audit(db: Queryable, action: AuditAction, entry: AuditEntryInput): Promise<void> {
  const { context } = entry;
  const actor = auditActor(action, context?.actor, entry.userId);
  await db.query(
    `INSERT INTO plinth.audit_log (action, user_id, request_id, details, actor_type, actor_id, target, ip, user_agent)
     VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9)`,
    [
      action,
      entry.userId ?? null,
      context?.requestId ?? null,
      JSON.stringify(entry.details ?? {}),
      actor?.type ?? null,
      actor && 'id' in actor ? actor.id : null,
      auditTarget(action, entry) ?? null,
      context?.ip ?? null,
      context?.userAgent ?? null,
    ],
  );
}

// Actions by which an anonymous caller proves to be the account they are about (a password, a
// mailed link, a refresh token, an identity from a provider): that account acted. A failure
// proves nothing, so a failed sign-in or a replayed token has no actor.
const provesTheAccount: ReadonlySet<AuditAction> = new Set<AuditAction>([
  'auth.sign_up',
  'auth.sign_in',
  'auth.refresh',
  'auth.password_reset',
  'auth.email_verified',
  'auth.magic_link_used',
  'auth.oauth_linked',
]);

/**
 * Who acted: the request's authenticated caller; for an anonymous request, the account an
 * action like sign-in proves it to be; otherwise nobody.
 *
 * @example
 * ```ts
 * auditActor('admin.user_deleted', { type: 'service' }, userId); // { type: 'service' }
 * auditActor('auth.sign_in', undefined, userId); // { type: 'user', id: userId }
 * auditActor('auth.sign_in_failed', undefined, userId); // undefined
 * ```
 */
export function auditActor(
  action: AuditAction,
  caller: Actor | undefined,
  userId: string | undefined,
): Actor | undefined {
  if (caller) return caller;
  return userId !== undefined && provesTheAccount.has(action) ? { type: 'user', id: userId } : undefined;
}

const named = (kind: string, value: unknown) =>
  typeof value === 'string' && value !== '' ? `${kind}:${value}` : undefined;

/**
 * What an action was about, from what its call site already records: a secret by name, a
 * webhook endpoint or delivery, an API key, a session by id, else the user; undefined when none
 * of them is known.
 *
 * @example
 * ```ts
 * auditTarget('admin.secret_put', { details: { name: 'STRIPE_KEY' } }); // 'secret:STRIPE_KEY'
 * auditTarget('admin.session_revoked', { userId, details: { sessionId } }); // `session:${sessionId}`
 * auditTarget('auth.sign_in', { userId }); // `user:${userId}`
 * ```
 */
export function auditTarget(
  action: AuditAction,
  entry: Pick<AuditEntryInput, 'userId' | 'details'>,
): string | undefined {
  const details = entry.details ?? {};
  if (action.startsWith('admin.secret_')) return named('secret', details.name);
  if (action === 'admin.webhook_redelivered') return named('webhook_delivery', details.id);
  if (action.startsWith('admin.webhook_')) return named('webhook', details.id);
  if (action.startsWith('admin.api_key_')) return named('api_key', details.keyId);
  return named('session', details.sessionId) ?? named('user', entry.userId);
}

/** What {@link listAuditEntries} filters on; every filter given narrows. */
export interface AuditFilters {
  /** An actor's id: a user's or an API key's. */
  readonly actor?: string | undefined;
  readonly actorType?: Actor['type'] | undefined;
  /** An action exactly, or a prefix ending in `.*` (`admin.*`). */
  readonly action?: string | undefined;
  readonly target?: string | undefined;
  /** ISO times, inclusive. Sent to the database as text, so no precision is lost to a JS Date. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly limit: number;
  /** Where the previous page ended: an entry's time, to the microsecond, and its id. */
  readonly after?: TimeCursor | undefined;
}

interface AuditRow {
  entry_id: string;
  /** The time to the microsecond, as text: a JS Date keeps milliseconds only. */
  at_exact: string;
  action: string;
  actor_type: Actor['type'] | null;
  actor_id: string | null;
  target: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: string;
}

// LIKE's own characters in a prefix (action names have `_`) are matched literally.
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * One page of the audit log, newest first, in (at, id) order. Keyset paging, with the time
 * compared to the microsecond: entries added while someone pages are ahead of the cursor, so
 * following `next` to the end sees every older entry once.
 *
 * @example
 * ```ts
 * const page = await listAuditEntries(database, { action: 'admin.*', limit: 100 });
 * const more = page.next && (await listAuditEntries(database, { action: 'admin.*', limit: 100, after: page.next }));
 * ```
 */
export async function listAuditEntries(
  db: Queryable,
  filters: AuditFilters,
): Promise<{ entries: AuditEntry[]; next: TimeCursor | undefined }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (condition: (param: string) => string, value: unknown) => {
    params.push(value);
    where.push(condition(`$${params.length}`));
  };
  if (filters.actor !== undefined) add((p) => `actor_id = ${p}`, filters.actor);
  if (filters.actorType !== undefined) add((p) => `actor_type = ${p}`, filters.actorType);
  if (filters.action?.endsWith('.*')) add((p) => `action LIKE ${p}`, likePrefix(filters.action.slice(0, -1)));
  else if (filters.action !== undefined) add((p) => `action = ${p}`, filters.action);
  if (filters.target !== undefined) add((p) => `target = ${p}`, filters.target);
  // ::text first: typed timestamptz, the PostgreSQL driver would send it through a JS Date and
  // drop the microseconds (and a cursor's page would start before its own last entry).
  if (filters.since !== undefined) add((p) => `at >= ${p}::text::timestamptz`, filters.since);
  if (filters.until !== undefined) add((p) => `at <= ${p}::text::timestamptz`, filters.until);
  if (filters.after) {
    params.push(filters.after.at, filters.after.id);
    where.push(`(at, id) < ($${params.length - 1}::text::timestamptz, $${params.length}::text::bigint)`);
  }
  params.push(filters.limit + 1);
  const rows = await db.query<AuditRow>(
    // Output names differ from the columns: ORDER BY would sort by an output column of the same
    // name (the id as text, where '9' > '10') and page in another order than the cursor compares.
    `SELECT id::text AS entry_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_exact,
            action, actor_type, actor_id, target, ip, user_agent, request_id, details::text AS details
       FROM plinth.audit_log
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY at DESC, id DESC
      LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return {
    entries: page.map((row) => ({
      id: row.entry_id,
      at: row.at_exact,
      action: row.action,
      actor: row.actor_type ? { type: row.actor_type, id: row.actor_id } : null,
      target: row.target,
      ip: row.ip,
      userAgent: row.user_agent,
      requestId: row.request_id,
      details: JSON.parse(row.details) as Record<string, unknown>,
    })),
    next: rows.length > filters.limit && last ? { at: last.at_exact, id: last.entry_id } : undefined,
  };
}

const maxBigint = 9_223_372_036_854_775_807n;

/** Whether a cursor's id can be an entry's: a positive bigint. */
export const isAuditEntryId = (id: string) => /^[1-9]\d{0,18}$/.test(id) && BigInt(id) <= maxBigint;
