import { type CallOptions, callAs, type Transport } from '@plinth/core';
import { type AuditActorType, type AuditEntry, listAuditLogRoute } from '@plinth/protocol';
import { definedOnly } from './defined-only.js';
import { followCursor } from './follow-cursor.js';

/** What `audit.list` and `audit.listAll` filter on; every filter given narrows. */
export interface AuditLogFilters {
  /** An actor's id: a user's id, or an API key's id. */
  actor?: string | undefined;
  /** `user`, `service` (the service key) or `api_key`. */
  actorType?: AuditActorType | undefined;
  /** An action exactly (`auth.sign_in`), or a prefix ending in `.*` (`admin.*`). */
  action?: string | undefined;
  /** What the action was about, exactly: `user:<id>`, `secret:<name>`, `webhook:<id>`, … */
  target?: string | undefined;
  /** Entries at or after this time (ISO 8601 with a time zone, or a Date). */
  since?: string | Date | undefined;
  /** Entries at or before this time (ISO 8601 with a time zone, or a Date). */
  until?: string | Date | undefined;
}

/** One page request of `audit.list`. */
export interface ListAuditLogOptions {
  /** 1 to 1000; default 100. */
  limit?: number | undefined;
  /** The `nextCursor` of the previous page, unchanged. */
  cursor?: string | undefined;
}

/** One page of the audit log. */
export interface AuditLogPage {
  /** Newest first. */
  entries: AuditEntry[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** `admin.audit`: who did what, from where. */
export interface AdminAudit {
  /**
   * One page of entries, newest first.
   *
   * @example
   * ```ts
   * const { entries, nextCursor } = await admin.audit.list({ action: 'admin.*' }, { limit: 50 });
   * ```
   */
  list(filters?: AuditLogFilters, options?: ListAuditLogOptions, callOptions?: CallOptions): Promise<AuditLogPage>;

  /**
   * Every entry matching `filters`, newest first, one at a time, fetching page after page (of
   * `pageSize`, default 1000) as the loop asks; each entry once, even while entries are added.
   *
   * @example
   * ```ts
   * for await (const entry of admin.audit.listAll({ target: `user:${userId}` })) {
   *   console.log(entry.at, entry.action, entry.actor, entry.ip);
   * }
   * ```
   */
  listAll(
    filters?: AuditLogFilters,
    options?: { pageSize?: number | undefined },
    callOptions?: CallOptions,
  ): AsyncIterable<AuditEntry>;
}

const isoTime = (time: string | Date | undefined) => (time instanceof Date ? time.toISOString() : time);

const query = (filters: AuditLogFilters, limit: number | undefined, cursor: string | undefined) =>
  definedOnly({
    actor: filters.actor,
    actorType: filters.actorType,
    action: filters.action,
    target: filters.target,
    since: isoTime(filters.since),
    until: isoTime(filters.until),
    limit,
    cursor,
  });

/**
 * The audit namespace of the admin client, over a transport with the service key (or an `admin`
 * API key). Every method throws `MissingServiceKeyError` synchronously, before any request, on
 * a transport without one.
 *
 * @example
 * ```ts
 * const audit = createAuditClient(createTransport({ url, serviceKey: process.env.PLINTH_SERVICE_KEY }));
 * const { entries } = await audit.list({ actorType: 'api_key', since: '2026-12-01T00:00:00Z' });
 * ```
 */
export function createAuditClient(transport: Transport): AdminAudit {
  return {
    list: (filters = {}, options = {}, callOptions) =>
      callAs(
        transport,
        listAuditLogRoute,
        'admin.audit.list()',
        query(filters, options.limit, options.cursor),
        callOptions,
      ),

    listAll(filters = {}, options = {}, callOptions) {
      // Checked here, not at the first page: the mistake surfaces where the loop is written.
      transport.assertCallable(listAuditLogRoute, 'admin.audit.listAll()');
      const pageSize = options.pageSize ?? 1000;
      return followCursor(
        (cursor) =>
          callAs(transport, listAuditLogRoute, 'admin.audit.listAll()', query(filters, pageSize, cursor), callOptions),
        (page) => page.entries,
      );
    },
  };
}
