// The RLS matrix through the SDK: every table × {anon, user A, user B, service} ×
// {select, insert, update, delete} with `plinth.as(...)`, against the real server on the example
// schema (PGlite, or PostgreSQL when DATABASE_URL is set). The expectations are the server
// tests' own (test/fixtures/example-schema/rls-matrix.ts).
import { PermissionError } from '@plinth/client';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type RlsActor,
  type RlsOp,
  type RlsOutcome,
  rlsCells,
  rlsNewRow,
  rlsSeed,
  rlsSeededIds,
} from '../../../../test/fixtures/example-schema/rls-matrix.js';
import { useDataServer } from '../fixtures/data-server.js';

const { service, signedIn } = useDataServer();

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
