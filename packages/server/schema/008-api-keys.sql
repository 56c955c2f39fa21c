-- Scoped API keys (`ak_<prefix>_<secret>`). Only a SHA-256 of each key is stored; `prefix` is
-- what people see and what `plinth keys revoke` takes. The owner (`created_by`) is whoever made
-- the key: the service key, another API key (by id), or the CLI on the server's machine; the
-- server sets it from the caller, never from a request body. Keys are revoked, never deleted,
-- so an owner's id always resolves.
CREATE TABLE IF NOT EXISTS plinth.api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  prefix text NOT NULL UNIQUE CHECK (prefix ~ '^[A-Za-z0-9]{8}$'),
  key_hash text NOT NULL UNIQUE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  scopes text[] NOT NULL CHECK (
    cardinality(scopes) >= 1
    AND scopes <@ ARRAY['data:read', 'data:write', 'storage:read', 'storage:write', 'realtime', 'admin']
  ),
  created_by text NOT NULL CHECK (created_by IN ('service_key', 'api_key', 'cli')),
  created_by_key_id uuid REFERENCES plinth.api_keys (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  -- Written at most once a minute per key, not on every request.
  last_used_at timestamptz,
  CHECK ((created_by = 'api_key') = (created_by_key_id IS NOT NULL))
);
GRANT SELECT, INSERT, UPDATE ON plinth.api_keys TO plinth_server;
