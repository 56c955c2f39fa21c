-- The role the server's statements run as. NOBYPASSRLS and NOSUPERUSER: row-level security
-- applies to it, and it owns no table, so it cannot disable RLS or change a table's policies.
-- Roles are cluster-wide: several databases (parallel test runs) may race to create it.
DO $$
BEGIN
  CREATE ROLE plinth_server NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- The connecting user must be able to SET ROLE to it.
DO $$
BEGIN
  EXECUTE format('GRANT plinth_server TO %I', current_user);
EXCEPTION WHEN duplicate_object OR invalid_grant_operation THEN
  NULL;
END
$$;
