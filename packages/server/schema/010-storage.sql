-- Storage (docs/storage.md). Metadata lives here; bytes live in the storage driver.

-- One durable event log for every feature (storage now; realtime and webhooks read it): each
-- event is written in the same transaction as the change it reports, so nothing is published
-- that was not committed. `id` only grows; readers resume after the last id they saw.
CREATE TABLE IF NOT EXISTS plinth.events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel text NOT NULL CHECK (char_length(channel) BETWEEN 1 AND 200),
  type text NOT NULL CHECK (type ~ '^[a-z]+(\.[a-z_]+)+$'),
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON plinth.events TO plinth_server;

CREATE TABLE IF NOT EXISTS plinth.storage_buckets (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'),
  public boolean NOT NULL DEFAULT false,
  -- Empty: any content type.
  allowed_content_types text[] NOT NULL DEFAULT '{}',
  max_object_bytes bigint NOT NULL CHECK (max_object_bytes > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON plinth.storage_buckets TO plinth_server;

-- A committed object: visible to list, info and downloads. A row exists only once its bytes
-- were verified (size, checksum, sniffed type) and moved under their key.
CREATE TABLE IF NOT EXISTS plinth.storage_objects (
  bucket text NOT NULL REFERENCES plinth.storage_buckets (name),
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 1024),
  size bigint NOT NULL CHECK (size >= 0),
  content_type text NOT NULL,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  etag text NOT NULL,
  -- The user the upload grant was minted for, when it was minted for one.
  owner uuid,
  metadata jsonb NOT NULL DEFAULT '{}',
  -- Where the driver keeps this version's bytes (`<bucket>/<upload id>`): each upload writes a
  -- key of its own, and this row says which one the object is, so switching is one UPDATE.
  blob text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bucket, key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.storage_objects TO plinth_server;

-- An upload grant: what the app's server allowed one upload to be. `state` goes pending →
-- uploading (claimed by the one request that may use it) → committed, or → refused/expired.
CREATE TABLE IF NOT EXISTS plinth.storage_uploads (
  id uuid PRIMARY KEY,
  bucket text NOT NULL REFERENCES plinth.storage_buckets (name),
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 1024),
  content_types text[] NOT NULL,
  min_bytes bigint NOT NULL CHECK (min_bytes >= 0),
  max_bytes bigint NOT NULL CHECK (max_bytes >= min_bytes),
  owner uuid,
  metadata jsonb NOT NULL DEFAULT '{}',
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uploading', 'committed', 'refused')),
  -- 'single': one PUT of the whole object; 'multipart': numbered parts of part_size bytes.
  kind text NOT NULL DEFAULT 'single' CHECK (kind IN ('single', 'multipart')),
  part_size bigint CHECK (part_size > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  finished_at timestamptz
);
-- S3: the storage service's id of the native multipart upload behind a multipart grant.
ALTER TABLE plinth.storage_uploads ADD COLUMN IF NOT EXISTS driver_upload_id text;
CREATE INDEX IF NOT EXISTS storage_uploads_expiry ON plinth.storage_uploads (expires_at) WHERE state IN ('pending', 'uploading');
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.storage_uploads TO plinth_server;

-- Multipart uploads: a grant of kind 'multipart' takes its bytes in numbered parts of
-- `part_size` bytes (the last may be shorter), each kept by the driver until the upload is
-- completed (the parts become one object) or aborted. A part sent again replaces the one before,
-- so an upload resumes after a cut from the list of parts the server has.
CREATE TABLE IF NOT EXISTS plinth.storage_upload_parts (
  upload_id uuid NOT NULL REFERENCES plinth.storage_uploads (id) ON DELETE CASCADE,
  part_number integer NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
  size bigint NOT NULL CHECK (size > 0),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  blob text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (upload_id, part_number)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.storage_upload_parts TO plinth_server;
