-- Named secrets the app keeps in Plinth (`PUT /v1/admin/secrets/:name`). The value is never
-- stored in clear: `envelope` is `v1.<key version>.<nonce>.<ciphertext>.<tag>` (base64url),
-- AES-256-GCM under a key derived for this row from the master key of that version (HKDF with
-- the row's id), with the id and version as associated data, so a ciphertext copied to another
-- row, or given another version, does not decrypt. `key_version` repeats the envelope's version
-- so that `plinth secrets rotate` and `audit` can find rows by it; the envelope is what decides.
CREATE TABLE IF NOT EXISTS plinth.secrets (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,128}$'),
  key_version integer NOT NULL CHECK (key_version >= 1),
  envelope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS secrets_key_version ON plinth.secrets (key_version);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.secrets TO plinth_server;
