-- The table the data benchmark reads by primary key: 10 000 rows. Row-level security on it (for
-- the server's data roles) is in 002-bench-rls.sql.
CREATE TABLE IF NOT EXISTS public.bench_rows (
  id integer PRIMARY KEY,
  name text NOT NULL,
  score integer NOT NULL
);
INSERT INTO public.bench_rows (id, name, score)
SELECT i, 'row ' || i, i % 97 FROM generate_series(1, 10000) AS i
ON CONFLICT (id) DO NOTHING;
ANALYZE public.bench_rows;
