-- Plinth's own schema. Never exposed to the data API; owned by the user that applies the
-- schema, not by plinth_server, which only gets the grants below.
CREATE SCHEMA IF NOT EXISTS plinth;
GRANT USAGE ON SCHEMA plinth TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.schema_version (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version integer NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON plinth.schema_version TO plinth_server;

-- Publishable and service keys. Only a SHA-256 of each key is stored; `prefix` is shown to
-- people so they can tell keys apart.
CREATE TABLE IF NOT EXISTS plinth.keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('publishable', 'service')),
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);
GRANT SELECT, INSERT, UPDATE ON plinth.keys TO plinth_server;
