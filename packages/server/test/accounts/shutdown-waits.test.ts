import { expect, it } from 'vitest';
import type { Database } from '../../src/database/database.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { startServer } from '../../src/start-server.js';

// Sign-up answers before it makes the account and mails the link (so its timing says nothing
// about whether the email is known). What the answer promised must survive a shutdown that
// comes right after it.
it('close() waits for the account and mail that a sign-up answered for', async () => {
  const outbox = createOutboxMailer(createLogger('silent'));
  const server = await startServer({
    database: 'memory',
    logLevel: 'silent',
    mailer: outbox,
    corsOrigins: ['http://localhost:5173'],
  });
  // Every statement takes a while, so the work after the answer is still running when close()
  // starts: without waiting, it would find the database closed.
  const db: Database = server.services.database;
  const { query, transaction } = db;
  const slowly = () => new Promise((resolve) => setTimeout(resolve, 100));
  db.query = (async (text: string, params?: readonly unknown[]) => {
    await slowly();
    return query.call(db, text, params);
  }) as Database['query'];
  db.transaction = (async (work: Parameters<Database['transaction']>[0]) => {
    await slowly();
    return transaction.call(db, work);
  }) as Database['transaction'];

  const email = 'late-signup@example.com';
  const answer = await fetch(`${server.url}/v1/auth/sign-up`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery staple' }),
  });
  expect(answer.status, await answer.clone().text()).toBe(200);
  expect(outbox.messages.filter((mail) => mail.to === email)).toHaveLength(0);
  await server.close();
  expect(outbox.messages.filter((mail) => mail.to === email)).toHaveLength(1);
});
