-- Row-level security on bench_rows, for the data benchmark's two cases: the service role reads
-- every row (plinth_service bypasses no policy, so it has one of its own), a signed-in user every
-- row too, through a policy that reads the request's claims (auth.uid()), so a select that did
-- not set them finds nothing. Superusers (the benchmark's own `postgres` connections) bypass it.
-- Applied at every start: policies are dropped and made again.
ALTER TABLE public.bench_rows ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON public.bench_rows TO plinth_authenticated;
DROP POLICY IF EXISTS bench_rows_service ON public.bench_rows;
CREATE POLICY bench_rows_service ON public.bench_rows FOR ALL TO plinth_service USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS bench_rows_signed_in ON public.bench_rows;
CREATE POLICY bench_rows_signed_in ON public.bench_rows FOR SELECT TO plinth_authenticated
  USING (auth.uid() IS NOT NULL);
