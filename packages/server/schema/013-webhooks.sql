-- Webhooks out (src/webhooks/). Endpoints take events of the durable log (plinth.events); each
-- event an endpoint takes becomes one delivery, made in the transaction that moves
-- `webhook_state.dispatched_through` past it, so no event is missed or delivered twice over by
-- instances dispatching at once. A delivery keeps the exact body it sends (the log is pruned;
-- every attempt must sign the same bytes) and every attempt is kept with its status and excerpt.
CREATE TABLE IF NOT EXISTS plinth.webhook_endpoints (
  id text PRIMARY KEY,
  url text NOT NULL CHECK (length(url) <= 2048),
  events text[] NOT NULL CHECK (cardinality(events) > 0),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  enabled boolean NOT NULL DEFAULT true,
  -- `gone` (it answered 410) or `failing` (5 days of failures) when the server disabled it.
  disabled_reason text,
  failing_since timestamptz,
  -- `whsec_` secrets. The one before a rotation keeps signing alongside until it expires.
  secret text NOT NULL,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  -- Only events after this log id reach it: an endpoint gets no history from before it existed.
  after_event bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.webhook_endpoints TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.webhook_deliveries (
  id text PRIMARY KEY,
  endpoint_id text NOT NULL REFERENCES plinth.webhook_endpoints (id) ON DELETE CASCADE,
  event_id bigint NOT NULL,
  event_type text NOT NULL,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  -- When it may next be tried; while an instance is sending it, the end of that instance's lease.
  next_attempt_at timestamptz,
  last_status integer,
  last_excerpt text,
  last_duration_ms integer,
  created_at timestamptz NOT NULL,
  delivered_at timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON plinth.webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint ON plinth.webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_time ON plinth.webhook_deliveries (created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.webhook_deliveries TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.webhook_attempts (
  delivery_id text NOT NULL REFERENCES plinth.webhook_deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  at timestamptz NOT NULL,
  status integer,
  error text,
  excerpt text NOT NULL DEFAULT '',
  duration_ms integer NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
GRANT SELECT, INSERT, DELETE ON plinth.webhook_attempts TO plinth_server;

-- How far the log has been turned into deliveries. Starts at the log's head: events written
-- before webhooks existed are nobody's.
CREATE TABLE IF NOT EXISTS plinth.webhook_state (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  dispatched_through bigint NOT NULL
);
INSERT INTO plinth.webhook_state (only_row, dispatched_through)
  SELECT true, coalesce(max(id), 0) FROM plinth.events
  ON CONFLICT (only_row) DO NOTHING;
GRANT SELECT, UPDATE ON plinth.webhook_state TO plinth_server;

-- Account events, written by triggers so that every way an account is made or removed (sign-up,
-- OAuth, the admin routes, SQL by hand) reports it, in the transaction of the change. Channel
-- `plinth:users` and `plinth:sessions` are the server's own: no realtime ticket may name them.
CREATE OR REPLACE FUNCTION plinth.publish_account_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' AND TG_OP = 'INSERT' THEN
    PERFORM plinth.publish_event('plinth:users', 'user.created', jsonb_build_object('user', jsonb_build_object(
      'id', NEW.id, 'email', NEW.email, 'emailVerified', NEW.email_verified_at IS NOT NULL,
      'createdAt', to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))));
  ELSIF TG_TABLE_NAME = 'users' AND TG_OP = 'DELETE' THEN
    PERFORM plinth.publish_event('plinth:users', 'user.deleted', jsonb_build_object('user', jsonb_build_object(
      'id', OLD.id, 'email', OLD.email)));
  ELSIF TG_TABLE_NAME = 'sessions' AND OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
    PERFORM plinth.publish_event('plinth:sessions', 'session.revoked', jsonb_build_object('session', jsonb_build_object(
      'id', NEW.id, 'userId', NEW.user_id, 'reason', NEW.revoked_reason)));
  END IF;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION plinth.publish_account_event() FROM PUBLIC;
DROP TRIGGER IF EXISTS plinth_user_events ON plinth.users;
CREATE TRIGGER plinth_user_events AFTER INSERT OR DELETE ON plinth.users
  FOR EACH ROW EXECUTE FUNCTION plinth.publish_account_event();
DROP TRIGGER IF EXISTS plinth_session_events ON plinth.sessions;
CREATE TRIGGER plinth_session_events AFTER UPDATE OF revoked_at ON plinth.sessions
  FOR EACH ROW EXECUTE FUNCTION plinth.publish_account_event();
