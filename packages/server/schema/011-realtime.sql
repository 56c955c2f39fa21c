-- Realtime: plinth.events (010-storage.sql) is the durable log every stream reads. Events of
-- broadcasts and of published tables' row changes join storage's there.

-- Broadcasts carry the app's own event names (`typing`, `cursor-moved`), not only Plinth's
-- dotted ones; the channel says where an event comes from (`table:`, `storage:`, or the app's).
DO $$
BEGIN
  ALTER TABLE plinth.events DROP CONSTRAINT IF EXISTS events_type_check;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'events_type_shape' AND conrelid = 'plinth.events'::regclass) THEN
    ALTER TABLE plinth.events ADD CONSTRAINT events_type_shape CHECK (type ~ '^[A-Za-z0-9_.-]{1,64}$');
  END IF;
END
$$;

-- Retention deletes the oldest events; `pruned_through` is the highest id it deleted, so a
-- stream asked to resume from before it knows events are missing (ids have gaps anyway: a
-- rolled-back transaction's id is never used).
CREATE TABLE IF NOT EXISTS plinth.realtime_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO plinth.realtime_state (singleton) VALUES (true) ON CONFLICT DO NOTHING;
GRANT SELECT, UPDATE ON plinth.realtime_state TO plinth_server;
GRANT DELETE ON plinth.events TO plinth_server;

-- Every event is written by plinth.publish_event, which takes a transaction-level lock first:
-- transactions that publish run their inserts one after another and commit in id order, so a
-- reader that has seen id n has seen every committed id below n, and `id > cursor` never skips
-- an event that commits late. The price: two transactions that publish at once wait for each
-- other's commit (docs/realtime.md). One NOTIFY per transaction, at commit, wakes every
-- instance's reader, which reads the new rows by id: the events never travel in the
-- notification (its payload is capped at 8000 bytes).
CREATE OR REPLACE FUNCTION plinth.publish_event(channel text, type text, payload jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7419002);
  INSERT INTO plinth.events (channel, type, payload) VALUES (channel, type, payload) RETURNING id INTO new_id;
  -- Identical notifications of one transaction are delivered once: one wake-up per commit.
  PERFORM pg_notify('plinth_events', '');
  RETURN new_id;
END
$$;
REVOKE EXECUTE ON FUNCTION plinth.publish_event(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plinth.publish_event(text, text, jsonb) TO plinth_server;

-- Several events at once (a batch removal, a burst of broadcasts): one lock, one INSERT, one
-- NOTIFY, where publish_event would take a function call and a notification per event. `events`
-- is a JSON array of `{ channel, type, payload }`; the ids come back in the array's order.
CREATE OR REPLACE FUNCTION plinth.publish_events(events jsonb) RETURNS SETOF bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF jsonb_typeof(events) IS DISTINCT FROM 'array' OR jsonb_array_length(events) = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(7419002);
  RETURN QUERY
    INSERT INTO plinth.events (channel, type, payload)
    SELECT item->>'channel', item->>'type', coalesce(item->'payload', 'null'::jsonb)
      FROM jsonb_array_elements(events) WITH ORDINALITY AS e(item, position)
     ORDER BY position
    RETURNING id;
  PERFORM pg_notify('plinth_events', '');
END
$$;
REVOKE EXECUTE ON FUNCTION plinth.publish_events(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plinth.publish_events(jsonb) TO plinth_server;

-- The tables whose row changes are published: their primary key (a `leave` event names the row
-- by it) and the columns never sent.
CREATE TABLE IF NOT EXISTS plinth.realtime_tables (
  table_schema text NOT NULL,
  table_name text NOT NULL,
  key_columns text[] NOT NULL CHECK (cardinality(key_columns) > 0),
  excluded_columns text[] NOT NULL DEFAULT '{}',
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_schema, table_name)
);
GRANT SELECT ON plinth.realtime_tables TO plinth_server;

-- A published table's trigger: one event per changed row, on channel `table:<schema>.<table>`,
-- type `row.insert|row.update|row.delete`, payload `{ table, key, new?, old? }` without the
-- excluded columns. It runs as the role that applied the schema (SECURITY DEFINER, with a fixed
-- search_path, no dynamic SQL and nothing taken from the caller but the row), since the roles
-- that change rows may not write the log; in the transaction of the change: a rolled-back
-- change publishes nothing.
CREATE OR REPLACE FUNCTION plinth.publish_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  config record;
  new_row jsonb;
  old_row jsonb;
  row_key jsonb;
  payload jsonb;
BEGIN
  SELECT key_columns, excluded_columns INTO config
    FROM plinth.realtime_tables WHERE table_schema = TG_TABLE_SCHEMA AND table_name = TG_TABLE_NAME;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_row := to_jsonb(NEW);
  END IF;
  IF TG_OP <> 'INSERT' THEN
    old_row := to_jsonb(OLD);
  END IF;
  SELECT jsonb_object_agg(k, coalesce(new_row, old_row) -> k) INTO row_key FROM unnest(config.key_columns) AS k;
  payload := jsonb_build_object('table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'key', row_key);
  IF new_row IS NOT NULL THEN
    payload := payload || jsonb_build_object('new', new_row - config.excluded_columns);
  END IF;
  IF old_row IS NOT NULL THEN
    payload := payload || jsonb_build_object('old', old_row - config.excluded_columns);
  END IF;
  PERFORM plinth.publish_event('table:' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'row.' || lower(TG_OP), payload);
  RETURN NULL;
END
$$;

-- Publishes a table: records its key and excluded columns, and adds the trigger. Run by the
-- table's owner (plinth_owner: the app's schema files, `plinth realtime publish`, or the
-- server's `realtime.tables` setting at start). Idempotent: publishing again replaces the
-- excluded columns.
CREATE OR REPLACE FUNCTION plinth.publish_table(name text, exclude text[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  relation regclass := to_regclass(CASE WHEN position('.' IN name) > 0 THEN name ELSE 'public.' || name END);
  schema_name text;
  relation_name text;
  keys text[];
  unknown text[];
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'plinth: cannot publish %: no such table', name USING ERRCODE = 'undefined_table';
  END IF;
  SELECT n.nspname, c.relname INTO schema_name, relation_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = relation;
  IF schema_name IN ('plinth', 'auth', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION 'plinth: cannot publish %: only the app''s own tables are published', name USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) INTO keys
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = relation AND i.indisprimary;
  IF keys IS NULL THEN
    RAISE EXCEPTION 'plinth: cannot publish %: it has no primary key, which events name rows by; add one', name USING ERRCODE = 'invalid_table_definition';
  END IF;
  SELECT array_agg(e) INTO unknown FROM unnest(exclude) AS e
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = relation AND attname = e AND attnum > 0 AND NOT attisdropped);
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'plinth: cannot publish %: it has no column %', name, array_to_string(unknown, ', ') USING ERRCODE = 'undefined_column';
  END IF;
  IF keys && exclude THEN
    RAISE EXCEPTION 'plinth: cannot publish % without its primary key columns (%): events name rows by them', name, array_to_string(keys, ', ') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO plinth.realtime_tables (table_schema, table_name, key_columns, excluded_columns)
    VALUES (schema_name, relation_name, keys, exclude)
    ON CONFLICT (table_schema, table_name) DO UPDATE SET key_columns = excluded.key_columns, excluded_columns = excluded.excluded_columns;
  EXECUTE format('CREATE OR REPLACE TRIGGER plinth_realtime AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION plinth.publish_row_change()', relation);
END
$$;

-- Stops publishing a table: drops its trigger and its record. Events already written stay.
CREATE OR REPLACE FUNCTION plinth.unpublish_table(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  relation regclass := to_regclass(CASE WHEN position('.' IN name) > 0 THEN name ELSE 'public.' || name END);
BEGIN
  IF relation IS NULL THEN
    RETURN;
  END IF;
  EXECUTE format('DROP TRIGGER IF EXISTS plinth_realtime ON %s', relation);
  DELETE FROM plinth.realtime_tables r
    USING pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = relation AND r.table_schema = n.nspname AND r.table_name = c.relname;
END
$$;

GRANT USAGE ON SCHEMA plinth TO plinth_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON plinth.realtime_tables TO plinth_owner;
REVOKE EXECUTE ON FUNCTION plinth.publish_table(text, text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION plinth.unpublish_table(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plinth.publish_table(text, text[]) TO plinth_owner;
GRANT EXECUTE ON FUNCTION plinth.unpublish_table(text) TO plinth_owner;
