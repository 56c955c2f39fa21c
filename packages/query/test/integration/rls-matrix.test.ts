// The RLS matrix through the SDK: every table × {anon, user A, user B, service} ×
// {select, insert, update, delete} with `plinth.as(...)`, against the real server on the example
// schema (PGlite, or PostgreSQL when DATABASE_URL is set). The expectations are the server
// tests' own (test/fixtures/example-schema/rls-matrix.ts).
import { createClient, PermissionError } from '@plinth/client';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exampleSchemaDir } from '../../../../test/fixtures/example-schema/index.js';
import {
  type RlsActor,
  type RlsOp,
  type RlsOutcome,
  rlsCells,
  rlsNewRow,
  rlsSeed,
  rlsSeededIds,
} from '../../../../test/fixtures/example-schema/rls-matrix.js';
import { createLogger } from '../../../server/src/logger.js';
import { createOutboxMailer } from '../../../server/src/mail/outbox-mailer.js';
import { defaultRateRules } from '../../../server/src/rate-limit/rate-limit-rules.js';
import { waitForMailedToken } from '../../../server/test/fixtures/auth-helpers.js';
import { useTestServer } from '../../../server/test/fixtures/test-server.js';

const outbox = createOutboxMailer(createLogger('silent'));
const server = useTestServer({
  schemaDir: exampleSchemaDir,
  mailer: outbox,
  corsOrigins: ['http://localhost:5173'],
  rateRules: Object.fromEntries(
    Object.keys(defaultRateRules).map((name) => [name, { capacity: 10_000, refillPerSecond: 1_000 }]),
  ),
});

const service = () =>
  createClient({
    url: server().url,
    publishableKey: server().publishableKey as string,
    serviceKey: server().serviceKey as string,
  });

const password = 'correct horse battery staple';

async function signedIn(email: string) {
  const plinth = createClient({
    url: server().url,
    publishableKey: server().publishableKey as string,
    auth: { mode: 'token' },
  });
  await plinth.auth.signUp({ email, password });
  await plinth.auth.verifyEmail({ token: await waitForMailedToken(outbox, email, 'verify_email') });
  const { user, session } = await plinth.auth.signIn({ email, password });
  return { id: user.id, session: session as NonNullable<typeof session> };
}

let userA: Awaited<ReturnType<typeof signedIn>>;
let userB: Awaited<ReturnType<typeof signedIn>>;
const users = () => ({ userA: userA.id, userB: userB.id });

/** The data client acting as `actor`: the service role itself, anon, or a user's session. */
const scoped = (actor: RlsActor) => {
  const db = service();
  if (actor === 'service') return db;
  return db.as(actor === 'anon' ? 'anon' : actor === 'userA' ? userA.session : userB.session);
};

async function reseed() {
  const db = service();
  const seed = rlsSeed(users());
  await db.batch([
    db.from('posts').delete().all(),
    db.from('notes').delete().all(),
    db.from('posts').insert(seed.posts),
    db.from('comments').insert(seed.comments),
    db.from('notes').insert(seed.notes),
  ]);
}

async function attempt(table: string, actor: RlsActor, op: RlsOp): Promise<RlsOutcome> {
  const from = scoped(actor).from(table);
  const ids = rlsSeededIds[table] as (string | number)[];
  try {
    if (op === 'select') return { rows: (await from.select()).length };
    const result =
      op === 'insert'
        ? await from.insert(rlsNewRow(table, actor, users()))
        : op === 'update'
          ? await from.update({ body: `changed by ${actor}` }).where({ id: { in: ids } })
          : await from.delete().where({ id: { in: ids } });
    return { rows: result.rowCount };
  } catch (error) {
    if (error instanceof PermissionError && error.code === 'permission_denied') return { status: 403 };
    throw error;
  }
}

beforeAll(async () => {
  userA = await signedIn('sdk-rls-a@example.com');
  userB = await signedIn('sdk-rls-b@example.com');
});

describe('the RLS matrix through plinth.as(): table × {anon, user A, user B, service} × {select, insert, update, delete}', () => {
  beforeEach(reseed);

  it('has every cell', () => {
    expect(rlsCells).toHaveLength(3 * 4 * 4);
  });

  it.each(rlsCells)('$table, $actor, $op → $outcome', async ({ table, actor, op, outcome }) => {
    expect(await attempt(table, actor, op)).toEqual(outcome);
  });
});
