-- Announces every change to a session or a user on the `plinth_auth_changes` channel, so every
-- server instance forgets cached session checks about it at once (a revoked session must stop
-- working everywhere, not when a cache entry ages out). Payload: `s:<session id>` or
-- `u:<user id>`. Sent at commit; a rolled-back change announces nothing.
CREATE OR REPLACE FUNCTION plinth.announce_auth_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(
    'plinth_auth_changes',
    CASE TG_TABLE_NAME WHEN 'sessions' THEN 's:' ELSE 'u:' END || OLD.id::text
  );
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER sessions_announce_changes
  AFTER UPDATE OR DELETE ON plinth.sessions
  FOR EACH ROW EXECUTE FUNCTION plinth.announce_auth_change();

CREATE OR REPLACE TRIGGER users_announce_changes
  AFTER UPDATE OR DELETE ON plinth.users
  FOR EACH ROW EXECUTE FUNCTION plinth.announce_auth_change();
