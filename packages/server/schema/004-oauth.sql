-- OAuth sign-in. A flow is one authorize: what the app sent (its PKCE challenge, redirectTo and
-- state) and the server's own secrets for the provider's leg, used once at the callback and gone.
-- It ends in a Plinth authorization code, stored hashed, used once at the token exchange; the
-- session it issued is kept on it, so a replayed code can revoke that session. Identities link a
-- provider's account (provider, subject) to a user.

CREATE TABLE IF NOT EXISTS plinth.oauth_flows (
  -- SHA-256 of the `state` the server sent to the provider.
  state_hash text PRIMARY KEY,
  -- SHA-256 of the cookie that binds the flow to the browser that started it.
  browser_hash text NOT NULL,
  provider text NOT NULL,
  redirect_to text NOT NULL,
  app_state text NOT NULL,
  code_challenge text NOT NULL,
  code_challenge_method text NOT NULL CHECK (code_challenge_method = 'S256'),
  -- The server's PKCE verifier and OIDC nonce toward the provider: needed in the clear at the
  -- callback, and deleted with the row when the callback uses it.
  provider_verifier text NOT NULL,
  nonce text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_flows_by_expiry ON plinth.oauth_flows (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.oauth_flows TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.oauth_codes (
  code_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES plinth.users (id) ON DELETE CASCADE,
  provider text NOT NULL,
  code_challenge text NOT NULL,
  code_challenge_method text NOT NULL CHECK (code_challenge_method = 'S256'),
  redirect_to text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  -- The session the first exchange started: a replay of the code revokes it.
  session_id uuid REFERENCES plinth.sessions (id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS oauth_codes_by_expiry ON plinth.oauth_codes (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.oauth_codes TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.identities (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider text NOT NULL,
  -- The provider's stable id for the account (`sub`; GitHub's numeric user id).
  subject text NOT NULL,
  user_id uuid NOT NULL REFERENCES plinth.users (id) ON DELETE CASCADE,
  -- The email the provider gave when the identity was linked, for people reading the table.
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, subject)
);
CREATE INDEX IF NOT EXISTS identities_by_user ON plinth.identities (user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.identities TO plinth_server;
