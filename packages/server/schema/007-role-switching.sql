-- Only the server may switch roles or change settings with set_config(). App SQL (`/v1/sql`,
-- batch steps) runs as plinth_service, plinth_authenticated or plinth_anon, but the connection's
-- session user is whoever DATABASE_URL names (on PGlite, a superuser), and `set_config('role',
-- …)` may switch to any role the session user may take: a service key could otherwise become
-- the superuser, read Plinth's own tables and, through COPY … TO PROGRAM, run programs on the
-- database's host. The server switches roles as plinth_server, before the app's statement runs,
-- and resets the role with `SET ROLE`, which app SQL may not send (session-control.ts). The
-- privilege is per database; a connecting user that does not own set_config() (not a superuser)
-- gets a warning, and a user that is not a superuser cannot reach the superuser anyway.
DO $$
BEGIN
  REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO plinth_server;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'plinth: could not restrict set_config() to plinth_server; connect as the database owner or a superuser to apply it.';
END
$$;
