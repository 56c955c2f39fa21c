import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// PostgreSQL only. A data call whose connection dies under it (a database restart, a terminated
// backend) answers 503; the calls after it must be served again, not fail on the dead
// connection's ghost: postgres.js 3.4.9 put a released dead connection back in use, and /v1/sql
// answered 503 for 90 s after a database restart until the server was restarted.

const adminUrl = process.env.DATABASE_URL;
const server = useTestServer();
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const admin = adminUrl ? postgres(adminUrl, { max: 1, onnotice: () => {} }) : undefined;
afterAll(async () => {
  await admin?.end();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Terminates the backend running a statement that contains `marker`, once it shows up. */
async function terminateRunning(marker: string) {
  if (!admin) throw new Error('DATABASE_URL is needed');
  for (let tries = 0; tries < 100; tries++) {
    const rows = await admin`
      SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
       WHERE query LIKE ${`%${marker}%`} AND pid <> pg_backend_pid()`;
    if (rows.length > 0) return;
    await sleep(20);
  }
  throw new Error(`no statement with ${marker} showed up`);
}

describe.skipIf(!adminUrl)('a data connection that dies under a call', () => {
  it('answers that call 503, and serves the calls after it, 15 times over (more than the pool holds)', async () => {
    for (let round = 0; round < 15; round++) {
      const marker = `dying_${Date.now()}_${round}`;
      const dying = call('POST', '/v1/sql', { text: `SELECT pg_sleep(5) AS "${marker}"` }, asService());
      await terminateRunning(marker);
      const answer = await dying;
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await call('POST', '/v1/sql', { text: 'SELECT 1 AS one' }, asService())).status);
      expect(statuses, `round ${round}`).toEqual([200, 200, 200, 200, 200]);
    }
  });
});
