-- Functions no data role may call. App SQL (`/v1/sql`, batch steps) runs as plinth_service,
-- plinth_authenticated or plinth_anon:
-- - with set_config() it could switch between them (`set_config('role', …)`), change its claims
--   to another user's, lift the statement timeout, or leave a setting behind for the next call.
--   The server opens each data transaction with SET LOCAL statements, which need no function
--   privilege, so nobody but the superuser keeps it.
-- - with pg_notify() it could send on the server's own channels (plinth_auth_changes). The
--   server's triggers send as plinth_server, which keeps it.
-- - with lo_create(), lo_creat() or lo_from_bytea() it could make large objects: storage
--   outside the app's tables and their row-level security, owned by a data role, outliving the
--   call. App data lives in tables (bytea for bytes). lo_import() and lo_export(), which reach
--   files, are a superuser's alone already.
-- The privileges are per database and only the functions' owner (a superuser) may change them: a
-- connecting user that cannot gets a warning here, and the server then refuses to start on
-- PostgreSQL with one line saying what to run (database/data-login.ts).
DO $$
BEGIN
  REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC;
  REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM plinth_server;
  REVOKE EXECUTE ON FUNCTION pg_catalog.pg_notify(text, text) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION pg_catalog.pg_notify(text, text) TO plinth_server;
  REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer),
    pg_catalog.lo_from_bytea(oid, bytea) FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'plinth: could not revoke set_config(), pg_notify() and large-object creation from PUBLIC; the server will refuse to start and say what to run.';
END
$$;
