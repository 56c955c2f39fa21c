-- The data API's roles and the claims functions row-level security policies call.
--
-- Every data statement runs in a transaction that first switches to one of these roles (SET
-- LOCAL, so the connection returns to plinth_server when the transaction ends):
--   plinth_anon           x-plinth-act-as: anon (nobody signed in)
--   plinth_authenticated  x-plinth-act-as: <a user's access token>
--   plinth_service        a service call without act-as
-- None of them may bypass row-level security: with RLS enabled, even the service role sees only
-- what a policy gives it (see docs/data.md, "Roles"). They log in nowhere and own nothing.
-- plinth_owner owns the app's tables: the app's schema directory is applied as it, never as
-- plinth_server, so the role requests run as owns no user table.
-- Roles are cluster-wide: several databases (parallel test runs) may race to create them.
DO $$
DECLARE
  name text;
BEGIN
  FOREACH name IN ARRAY ARRAY['plinth_anon', 'plinth_authenticated', 'plinth_service', 'plinth_owner'] LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT', name);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END LOOP;
END
$$;

-- The connecting user (session user of every connection) must be able to SET ROLE to each:
-- PostgreSQL checks the session user's memberships, not plinth_server's, which gets none.
DO $$
DECLARE
  name text;
BEGIN
  FOREACH name IN ARRAY ARRAY['plinth_anon', 'plinth_authenticated', 'plinth_service', 'plinth_owner'] LOOP
    BEGIN
      EXECUTE format('GRANT %I TO %I', name, current_user);
    EXCEPTION WHEN duplicate_object OR invalid_grant_operation THEN
      NULL;
    END;
  END LOOP;
END
$$;

-- The owner creates the app's tables in public (PostgreSQL 15+ no longer lets everyone create
-- there) and may create its own schemas. A connecting user that may not grant these gets a
-- warning: the app's schema files then fail with a message naming the missing right.
DO $$
BEGIN
  GRANT USAGE, CREATE ON SCHEMA public TO plinth_owner;
  EXECUTE format('GRANT CREATE ON DATABASE %I TO plinth_owner', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'plinth: could not let plinth_owner create tables; grant it CREATE on schema public.';
END
$$;

-- Tables the owner creates are open to the service role by default; anon and authenticated get
-- only what the app's schema grants them (least privilege: a table nobody thought about is not
-- readable by every signed-in user). Sequences are usable by all three, so inserts that the app
-- grants work on serial columns.
ALTER DEFAULT PRIVILEGES FOR ROLE plinth_owner GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO plinth_service;
ALTER DEFAULT PRIVILEGES FOR ROLE plinth_owner
  GRANT USAGE, SELECT ON SEQUENCES TO plinth_service, plinth_authenticated, plinth_anon;

-- The claims of the current statement, set by the server per transaction:
-- set_config('request.jwt.claims', '{"sub": …, "sid": …, "role": …}', true).
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO plinth_anon, plinth_authenticated, plinth_service, plinth_owner;

-- The acting user's id, or NULL for anon and service calls.
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')::uuid
$$;

-- `anon`, `authenticated` or `service`; NULL outside a data statement.
CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
$$;

-- The whole claims object (sub, sid, role), for policies that need more than the two above.
CREATE OR REPLACE FUNCTION auth.claims() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
$$;
