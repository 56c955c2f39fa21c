import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/database/database.js';
import { tokenFromMail, useMailingServer } from '../fixtures/auth-helpers.js';

// Sign-up, magic link and reset must not reveal whether an email has an account, by their answer
// or by its timing. They answer before touching the database at all: here the database is held
// while a request is made, and the answer must arrive while it is still held, for known and
// unknown emails alike. (How long the routes take is measured by `pnpm bench timing`, not here.)

const { outbox, server, call } = useMailingServer();
const password = 'correct horse battery staple';

/** Makes every statement wait until `release()`; `held()` says whether it is still waiting. */
function holdDatabase() {
  const db: Database = server().services.database;
  const { query, transaction } = db;
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let releasedAt: 'not yet' | 'released' = 'not yet';
  db.query = (async (text: string, params?: readonly unknown[]) => {
    await gate;
    return query.call(db, text, params);
  }) as Database['query'];
  db.transaction = (async (work: Parameters<Database['transaction']>[0]) => {
    await gate;
    return transaction.call(db, work);
  }) as Database['transaction'];
  return {
    held: () => releasedAt === 'not yet',
    release: () => {
      releasedAt = 'released';
      db.query = query;
      db.transaction = transaction;
      open();
    },
  };
}

/** Makes the request with the database held; whether the answer came while it was held. */
async function answerWhileHeld(path: string, body: Record<string, unknown>) {
  const hold = holdDatabase();
  // A route that waits for the database gets it after a while, so the test fails instead of hanging.
  const fallback = setTimeout(hold.release, 3_000);
  try {
    const answer = await call('POST', path, body);
    return { answer, answeredWhileHeld: hold.held() };
  } finally {
    clearTimeout(fallback);
    hold.release();
  }
}

async function verifiedUser(email: string) {
  await call('POST', '/v1/auth/sign-up', { email, password });
  const token = await tokenFromMail(outbox, email, 'verify_email');
  expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
}

describe('routes that must not reveal an account answer before any account work', () => {
  it.each([
    ['/v1/auth/magic-link', 'magic_link'],
    ['/v1/auth/reset-password', 'reset_password'],
  ])(
    '%s: known and unknown emails answer with the database held; the known one gets its link after',
    async (path, type) => {
      const known = `held-${type}@example.com`;
      await verifiedUser(known);
      for (const email of [known, `nobody-${type}@example.com`]) {
        const { answer, answeredWhileHeld } = await answerWhileHeld(path, { email });
        expect(answer.body).toEqual({ accepted: true });
        expect(answeredWhileHeld).toBe(true);
      }
      expect(await tokenFromMail(outbox, known, type)).toMatch(/^ot_/);
    },
  );

  it('/v1/auth/sign-up: a new and a taken email answer with the database held; the account is made after', async () => {
    await verifiedUser('held-taken@example.com');
    for (const email of ['held-taken@example.com', 'held-new@example.com']) {
      const { answer, answeredWhileHeld } = await answerWhileHeld('/v1/auth/sign-up', { email, password });
      expect(answer.body).toEqual({ accepted: true });
      expect(answeredWhileHeld).toBe(true);
    }
    const verify = await tokenFromMail(outbox, 'held-new@example.com', 'verify_email');
    expect((await call('POST', '/v1/auth/verify-email', { token: verify })).status).toBe(200);
    await expect
      .poll(() =>
        outbox.messages.some((m) => m.to === 'held-taken@example.com' && /already have an account/.test(m.subject)),
      )
      .toBe(true);
  });
});

describe('one canonical email at sign-up', () => {
  it('stores a new account under its canonical email and mails it there; another spelling is the same account', async () => {
    await call('POST', '/v1/auth/sign-up', { email: 'Mixed.Case@Example.COM', password });
    const token = await tokenFromMail(outbox, 'mixed.case@example.com', 'verify_email');
    expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
    const rows = await server().services.database.query<{ email: string }>(
      `SELECT email FROM plinth.users WHERE lower(email) = 'mixed.case@example.com'`,
    );
    expect(rows).toEqual([{ email: 'mixed.case@example.com' }]);
    await call('POST', '/v1/auth/sign-up', { email: 'MIXED.case@example.com', password: 'another long passphrase' });
    await expect
      .poll(() =>
        outbox.messages.some((m) => m.to === 'mixed.case@example.com' && /already have an account/.test(m.subject)),
      )
      .toBe(true);
    const signIn = await call('POST', '/v1/auth/sign-in', { email: 'mIxEd.CaSe@example.com', password });
    expect(signIn.body?.user.email).toBe('mixed.case@example.com');
  });
});
