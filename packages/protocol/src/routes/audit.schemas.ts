import * as z from 'zod/mini';

/**
 * Who acted: a signed-in `user` (by id), the `service` key, or an `api_key` (by key id). An
 * entry without an actor was made by an anonymous caller (a failed sign-in) or by the CLI.
 */
export const auditActorTypes = ['user', 'service', 'api_key'] as const;

/** One of {@link auditActorTypes}. */
export type AuditActorType = (typeof auditActorTypes)[number];

/** The most entries one page of the audit log holds. */
export const maxAuditPage = 1000;

/** One entry of the audit log. */
export const auditEntrySchema = z.object({
  /** Increasing with every entry; a string, as it is a 64-bit integer. */
  id: z.string(),
  /** When it was recorded, ISO 8601 in UTC. */
  at: z.string(),
  /** What happened: `auth.sign_in`, `admin.secret_put`, … (docs/admin.md lists every one). */
  action: z.string(),
  /** Who did it; `id` is null for the service key. Null when the caller was anonymous. */
  actor: z.nullable(z.object({ type: z.enum(auditActorTypes), id: z.nullable(z.string()) })),
  /** What it was about: `user:<id>`, `session:<id>`, `api_key:<id>`, `secret:<name>`, `webhook:<id>`, … */
  target: z.nullable(z.string()),
  /** The client's address, as the rate limiter sees it (behind a trusted proxy, the proxy's header). */
  ip: z.nullable(z.string()),
  /** The client's User-Agent, at most 512 characters. */
  userAgent: z.nullable(z.string()),
  /** The request's id: the `x-request-id` of its answer. */
  requestId: z.nullable(z.string()),
  /** What else the action recorded (never a secret, token or password). */
  details: z.record(z.string(), z.unknown()),
});

// Printable text only: a filter never needs a control character, and one is a probe.
const filterText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max), z.regex(/^[^\p{Cc}]+$/u));

// ISO 8601 with a time zone; year 0000 passes the format and is out of PostgreSQL's range.
const auditTime = z.iso
  .datetime({ offset: true })
  .check(z.refine((value) => !value.startsWith('0000-'), 'year 0000 does not exist; years start at 0001'));

export const listAuditLogSchemas = {
  /**
   * Every filter narrows: `actor` is an actor's id (a user's or an API key's), `actorType` one of
   * {@link auditActorTypes}, `action` an action exactly or a prefix ending in `.*` (`admin.*`),
   * `target` exactly (`user:<id>`), `since` and `until` ISO times (inclusive). `limit` is 1 to
   * 1000 (default 100); `cursor` is the previous page's `nextCursor`, opaque. Newest first.
   */
  request: z.strictObject({
    actor: z.optional(filterText(200)),
    actorType: z.optional(z.enum(auditActorTypes)),
    action: z.optional(z.string().check(z.maxLength(100), z.regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?$/))),
    target: z.optional(filterText(300)),
    since: z.optional(auditTime),
    until: z.optional(auditTime),
    limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(maxAuditPage))),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[A-Za-z0-9_-]+$/))),
  }),
  response: z.object({
    entries: z.array(auditEntrySchema),
    /** Pass as `cursor` for the next page; `null` on the last page. */
    nextCursor: z.nullable(z.string()),
  }),
};

/** An entry of the audit log, as `admin.audit.list` answers it. */
export type AuditEntry = z.output<typeof auditEntrySchema>;
