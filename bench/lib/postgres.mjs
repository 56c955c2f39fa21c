// The PostgreSQL the benchmarks use: only on this machine, in a database made for the run and
// dropped after it (also on Ctrl-C, through the `cleanups` the caller runs).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);
export const postgresAdminUrl = process.env.PLINTH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether PostgreSQL answers at the admin URL; the reason when it does not. */
export async function probePostgres() {
  const url = new URL(postgresAdminUrl);
  if (!loopback.has(url.hostname)) {
    return `${url.hostname} is not a loopback address, and the benchmark loads only this machine`;
  }
  const admin = postgres(postgresAdminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await admin`SELECT 1`;
    return undefined;
  } catch (error) {
    return `no PostgreSQL answered at ${url.host} (${error.code ?? error.message})`;
  } finally {
    await admin.end({ timeout: 1 });
  }
}

async function adminQuery(statement) {
  const admin = postgres(postgresAdminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}

/**
 * A new database `plinth_bench_<random>`: its URL, and `drop()`, which is also registered in
 * `cleanups` until it has run.
 */
export async function createBenchDatabase(cleanups) {
  const name = `plinth_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  // The server makes a data login role per database (plinth_data_<oid>); roles belong to the
  // cluster, so it is dropped with the database.
  const dropNow = async () => {
    const admin = postgres(postgresAdminUrl, { max: 1, onnotice: () => {} });
    try {
      const [database] = await admin`SELECT oid::int AS oid FROM pg_database WHERE datname = ${name}`;
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (database) await admin.unsafe(`DROP ROLE IF EXISTS plinth_data_${database.oid}`);
    } finally {
      await admin.end();
    }
  };
  cleanups.push(dropNow);
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const index = cleanups.indexOf(dropNow);
      if (index >= 0) cleanups.splice(index, 1);
      await dropNow();
    },
  };
}
