-- Idempotency-Key records (docs/decisions/0006-idempotency-records-in-the-write.md).
--
-- A claim marks a call as running, so a second call with the same key while the first runs is
-- answered 409. The server's pool writes it before the work and deletes it after; a claim left
-- by a server that died lapses at expires_at.
CREATE TABLE IF NOT EXISTS plinth.idempotency_claims (
  caller text NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (caller, key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.idempotency_claims TO plinth_server;

-- The first answer to a call, replayed for 24 h to a retry with the same caller and key. For a
-- data write it is inserted in the write's own transaction, by the data login role (not by the
-- data roles, which never reach schema plinth): the primary key then makes a second commit of
-- the same call impossible, whatever happens between COMMIT and the answer. The login role's
-- grant (INSERT only) is made by the server at start (database/data-login.ts), since the role's
-- name carries the database's oid.
CREATE TABLE IF NOT EXISTS plinth.idempotency_answers (
  caller text NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  status integer NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}',
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL DEFAULT now() + interval '24 hours',
  PRIMARY KEY (caller, key)
);
CREATE INDEX IF NOT EXISTS idempotency_answers_expires_at ON plinth.idempotency_answers (expires_at);
GRANT SELECT, INSERT, DELETE ON plinth.idempotency_answers TO plinth_server;
