-- The audit log says who did what, from where (src/audit/audit-log.ts fills these from the
-- request being served): the actor (a user, the service key, or an API key by id; none for an
-- anonymous caller), the target (`user:<id>`, `session:<id>`, `api_key:<id>`, `secret:<name>`,
-- `webhook:<id>`, `webhook_delivery:<id>`), the client's user agent, and, in the `ip` column of
-- 003, the address the rate limiter sees. Entries written before this file have none of them.
ALTER TABLE plinth.audit_log ADD COLUMN IF NOT EXISTS actor_type text CHECK (actor_type IN ('user', 'service', 'api_key'));
ALTER TABLE plinth.audit_log ADD COLUMN IF NOT EXISTS actor_id text;
ALTER TABLE plinth.audit_log ADD COLUMN IF NOT EXISTS target text;
ALTER TABLE plinth.audit_log ADD COLUMN IF NOT EXISTS user_agent text CHECK (length(user_agent) <= 512);

-- `GET /v1/admin/audit-log` pages newest first in (at, id) order, each filter with it.
CREATE INDEX IF NOT EXISTS audit_log_by_time ON plinth.audit_log (at, id);
CREATE INDEX IF NOT EXISTS audit_log_by_action ON plinth.audit_log (action, at, id);
CREATE INDEX IF NOT EXISTS audit_log_by_actor ON plinth.audit_log (actor_id, at, id);
CREATE INDEX IF NOT EXISTS audit_log_by_target ON plinth.audit_log (target, at, id);

-- Append-only: the server may read and add entries, never change or remove one (003 grants
-- SELECT and INSERT only; this says so again, whatever was granted by hand since).
REVOKE UPDATE, DELETE, TRUNCATE ON plinth.audit_log FROM plinth_server;
