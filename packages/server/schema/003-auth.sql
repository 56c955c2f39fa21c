-- Accounts, sessions and one-time tokens. Secrets are stored only as SHA-256 hashes; a session
-- is the family of its refresh tokens, revoked as a whole when a used token comes back.

CREATE TABLE IF NOT EXISTS plinth.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  email_verified_at timestamptz,
  -- argon2id PHC string (parameters included), or NULL for accounts that only use OAuth or links.
  password_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON plinth.users (lower(email));
-- What an app keeps about a user (admin routes set it); a JSON object, at most 16 KiB.
ALTER TABLE plinth.users ADD COLUMN IF NOT EXISTS metadata jsonb NOT NULL DEFAULT '{}';
-- admin.listUsers pages in this order (keyset), so a page costs the same deep into the list.
CREATE INDEX IF NOT EXISTS users_by_created_at ON plinth.users (created_at, id);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.users TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES plinth.users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  refreshed_at timestamptz NOT NULL DEFAULT now(),
  -- The absolute end, however often the session is refreshed.
  not_after timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX IF NOT EXISTS sessions_active_by_user ON plinth.sessions (user_id) WHERE revoked_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON plinth.sessions TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES plinth.sessions (id) ON DELETE CASCADE,
  generation integer NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  -- Set when the token is traded for its successor. A reuse within the grace window gets the
  -- same successor; a reuse after it revokes the session.
  used_at timestamptz
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_session ON plinth.refresh_tokens (session_id);
GRANT SELECT, INSERT, UPDATE ON plinth.refresh_tokens TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.one_time_tokens (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('verify_email', 'magic_link', 'reset_password', 'oauth_code', 'oauth_state')),
  user_id uuid REFERENCES plinth.users (id) ON DELETE CASCADE,
  payload jsonb NOT NULL DEFAULT '{}',
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.one_time_tokens TO plinth_server;

-- Keys that sign access tokens, and the secret that derives refresh-token successors.
CREATE TABLE IF NOT EXISTS plinth.server_secrets (
  name text PRIMARY KEY,
  value jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON plinth.server_secrets TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  user_id uuid,
  ip text,
  request_id text,
  details jsonb NOT NULL DEFAULT '{}'
);
GRANT SELECT, INSERT ON plinth.audit_log TO plinth_server;
