import { listAuditLogRoute } from '@plinth/protocol';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import { decodeTimeCursor, encodeTimeCursor } from '../http/time-cursor.js';
import { isAuditEntryId, listAuditEntries } from './audit-log.js';

/**
 * `GET /v1/admin/audit-log`: entries newest first, filtered by actor, action (exact or `admin.*`),
 * target and time, a page at a time. The cursor is a position, so following `nextCursor` to the
 * end sees each entry once.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'audit', handlers: [listAuditLogHandler] });
 * ```
 */
export const listAuditLogHandler = defineHandler(listAuditLogRoute, async ({ input, services }) => {
  const after = input.cursor === undefined ? undefined : decodeTimeCursor(input.cursor, isAuditEntryId);
  if (input.cursor !== undefined && after === undefined)
    throw new HttpError(
      'validation_failed',
      'cursor: not a cursor this server made; pass the nextCursor of the previous page unchanged, or leave it out to start at the newest entry.',
      { field: 'cursor' },
    );
  const page = await listAuditEntries(services.database, {
    actor: input.actor,
    actorType: input.actorType,
    action: input.action,
    target: input.target,
    since: input.since,
    until: input.until,
    limit: input.limit ?? 100,
    after,
  });
  return { entries: page.entries, nextCursor: page.next ? encodeTimeCursor(page.next) : null };
});
