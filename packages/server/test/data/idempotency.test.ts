// Idempotency-Key on the data routes, against the real server: PGlite by default, PostgreSQL
// when DATABASE_URL is set.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database, Queryable } from '../../src/database/database.js';
import { isDatabaseUnavailable } from '../../src/database/database-unavailable.js';
import { createIdempotencyStore, type IdempotencyScope, idempotencyOwner } from '../../src/idempotency/idempotency.js';
import { useDataServer } from './data-fixture.js';

const data = useDataServer();
let itemId: number;

const headers = (key: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${data.server().serviceKey}`,
  'idempotency-key': key,
  ...extra,
});

const insertPart = (label: string) => ({ table: 'item_parts', op: 'insert', values: { item_id: itemId, label } });

async function partsLabelled(label: string): Promise<number> {
  const { status, body } = await data.query({
    table: 'item_parts',
    op: 'select',
    where: { column: 'label', op: 'eq', value: label },
  });
  expect(status, JSON.stringify(body)).toBe(200);
  return body?.rows.length;
}

async function recordsFor(key: string): Promise<number> {
  const [row] = await data
    .server()
    .services.database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plinth.idempotency_answers WHERE key = $1',
      [key],
    );
  return row?.n ?? 0;
}

beforeAll(async () => {
  const made = await data.query({ table: 'items', op: 'insert', values: { name: 'idem-parent' }, returning: ['id'] });
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  itemId = made.body?.rows[0].id;
});

describe('Idempotency-Key on the data routes', () => {
  it('replays the first answer of an insert, marked Idempotent-Replayed, without a second row', async () => {
    const key = randomUUID();
    const label = `replay-${key}`;
    const first = await data.call('POST', '/v1/query', { ...insertPart(label), returning: ['id'] }, headers(key));
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await data.call('POST', '/v1/query', { ...insertPart(label), returning: ['id'] }, headers(key));
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('content-type')).toMatch(/^application\/json/);
    expect(again.body).toEqual(first.body);
    expect(await partsLabelled(label)).toBe(1);
  });

  it('replays a batch and a keyed sql statement the same way', async () => {
    const key = randomUUID();
    const label = `batch-${key}`;
    const steps = [
      { kind: 'query', query: insertPart(label) },
      {
        kind: 'sql',
        sql: { text: 'insert into item_parts (item_id, label) values ($1, $2)', params: [itemId, label] },
      },
    ];
    const first = await data.call('POST', '/v1/batch', { steps }, headers(key));
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const again = await data.call('POST', '/v1/batch', { steps }, headers(key));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await partsLabelled(label)).toBe(2);

    const sqlKey = randomUUID();
    const sqlBody = {
      text: 'insert into item_parts (item_id, label) values ($1, $2)',
      params: [itemId, `sql-${sqlKey}`],
    };
    const sqlFirst = await data.call('POST', '/v1/sql', sqlBody, headers(sqlKey));
    const sqlAgain = await data.call('POST', '/v1/sql', sqlBody, headers(sqlKey));
    expect(sqlFirst.status, JSON.stringify(sqlFirst.body)).toBe(200);
    expect(sqlAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(sqlAgain.body).toEqual(sqlFirst.body);
    expect(await partsLabelled(`sql-${sqlKey}`)).toBe(1);
  });

  it('refuses the same key with a different body, path or act-as header (422), doing nothing', async () => {
    const key = randomUUID();
    expect((await data.call('POST', '/v1/query', insertPart(`a-${key}`), headers(key))).status).toBe(200);
    const other = await data.call('POST', '/v1/query', insertPart(`b-${key}`), headers(key));
    expect(other.status).toBe(422);
    expect(other.body?.error).toMatchObject({ code: 'idempotency_key_reused', details: { field: 'Idempotency-Key' } });
    const elsewhere = await data.call(
      'POST',
      '/v1/batch',
      { steps: [{ kind: 'query', query: insertPart(`a-${key}`) }] },
      headers(key),
    );
    expect(elsewhere.status).toBe(422);
    const asAnon = await data.call(
      'POST',
      '/v1/query',
      insertPart(`a-${key}`),
      headers(key, { 'x-plinth-act-as': 'anon' }),
    );
    expect(asAnon.status).toBe(422);
    expect(await partsLabelled(`b-${key}`)).toBe(0);
    expect(await partsLabelled(`a-${key}`)).toBe(1);
  });

  it('answers a concurrent call with the same key 409 (or its replay), and writes once', async () => {
    const key = randomUUID();
    const label = `concurrent-${key}`;
    // The statement holds its transaction open a moment, so the second call arrives while it runs.
    const body = {
      text: 'insert into item_parts (item_id, label) select $1, $2 from pg_sleep(0.3)',
      params: [itemId, label],
    };
    const answers = await Promise.all([
      data.call('POST', '/v1/sql', body, headers(key)),
      data.call('POST', '/v1/sql', body, headers(key)),
    ]);
    const statuses = answers.map((answer) => answer.status).sort();
    const replayed = answers.filter((answer) => answer.headers.get('idempotent-replayed') === 'true');
    if (statuses[1] === 409) {
      expect(statuses).toEqual([200, 409]);
      expect(answers.find((answer) => answer.status === 409)?.body?.error).toMatchObject({
        code: 'conflict',
        details: { field: 'Idempotency-Key' },
      });
    } else {
      expect(statuses).toEqual([200, 200]);
      expect(replayed).toHaveLength(1);
    }
    expect(await partsLabelled(label)).toBe(1);
    // Once the first has answered, a retry gets its answer.
    const later = await data.call('POST', '/v1/sql', body, headers(key));
    expect(later.headers.get('idempotent-replayed')).toBe('true');
  });

  it('runs a failed call again on retry: an error is not recorded', async () => {
    const key = randomUUID();
    const bad = { table: 'item_parts', op: 'insert', values: { item_id: -1, label: `orphan-${key}` } };
    const refused = await data.call('POST', '/v1/query', bad, headers(key));
    expect(refused.body?.error.details).toMatchObject({ constraint: 'item_parts_item_id_fkey' });
    expect(await recordsFor(key)).toBe(0);
    // The same key may then be used again for the same request: nothing was done the first time.
    const again = await data.call('POST', '/v1/query', bad, headers(key));
    expect(again.status).toBe(refused.status);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  it('makes no claim and keeps no record for a select sent with a key', async () => {
    const key = randomUUID();
    const database = data.server().services.database;
    const { query } = database;
    const statements: string[] = [];
    database.query = ((text: string, params?: readonly unknown[]) => {
      statements.push(text);
      return query.call(database, text, params);
    }) as typeof database.query;
    let select: Awaited<ReturnType<typeof data.call>>;
    try {
      select = await data.call('POST', '/v1/query', { table: 'items', op: 'select', limit: 1 }, headers(key));
    } finally {
      database.query = query;
    }
    expect(select.status).toBe(200);
    // No claim either: a read with a key costs no extra round trip.
    expect(statements.filter((text) => text.includes('idempotency_'))).toEqual([]);
    expect(await recordsFor(key)).toBe(0);
    const again = await data.call('POST', '/v1/query', { table: 'items', op: 'select', limit: 1 }, headers(key));
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  it('leaves the records out of reach of app SQL, whichever role it runs as', async () => {
    for (const actAs of [undefined, 'anon'] as const) {
      for (const text of [
        'select * from plinth.idempotency_answers',
        "insert into plinth.idempotency_answers (caller, key, fingerprint, status) values ('service', 'forged', 'x', 200)",
        'delete from plinth.idempotency_claims',
      ]) {
        const answer = await data.sql(text, [], actAs);
        expect(answer.status, `${text}: ${JSON.stringify(answer.body)}`).toBe(403);
      }
    }
    expect(await recordsFor('forged')).toBe(0);
  });

  it('refuses hostile keys with a 400 naming the header, before any work', async () => {
    const label = `hostile-${randomUUID()}`;
    for (const key of ['', 'k'.repeat(256), 'clé-é', 'tab\there', ' ']) {
      const answer = await data.call('POST', '/v1/query', insertPart(label), headers(key));
      expect(answer.status, JSON.stringify([key, answer.body])).toBe(400);
      expect(answer.body?.error).toMatchObject({ code: 'validation_failed', details: { field: 'Idempotency-Key' } });
      expect(answer.body?.error.message).toMatch(/^Idempotency-Key /);
    }
    expect(await partsLabelled(label)).toBe(0);
    // 255 printable characters is the longest key accepted.
    expect((await data.call('POST', '/v1/query', insertPart(label), headers('k'.repeat(255)))).status).toBe(200);
  });
});

describe('a server that dies between COMMIT and the answer', () => {
  it("the retry, once the dead call's claim has lapsed, is answered from the record, not written again", async () => {
    const database = data.server().services.database;
    const { query, dataTransaction } = database;
    // From the data transaction's COMMIT on, the server reaches its database no more: the claim is
    // never released and nothing is written after the commit, as when the process dies there.
    let dead = false;
    database.dataTransaction = async <T>(setup: string, work: (tx: Queryable) => Promise<T>): Promise<T> => {
      const result = (await dataTransaction.call(database, setup, work)) as T;
      dead = true;
      return result;
    };
    database.query = (async (text: string, params?: readonly unknown[]) => {
      if (dead) throw new Error('the server died');
      return query.call(database, text, params);
    }) as typeof database.query;
    const key = randomUUID();
    const label = `crash-${key}`;
    let lost: Awaited<ReturnType<typeof data.call>>;
    try {
      lost = await data.call('POST', '/v1/query', insertPart(label), headers(key));
    } finally {
      database.query = query;
      database.dataTransaction = dataTransaction;
    }
    // The simulated process lives on: its work is done and recorded, so it answers 200 though
    // the claim's release failed (kept for a retry). A real crash sends nothing, and leaves the
    // claim behind just the same.
    expect(lost.status).toBe(200);
    // The restarted server: the dead call's claim lapses after its lifetime.
    await database.query(
      "UPDATE plinth.idempotency_claims SET expires_at = now() - interval '1 second' WHERE key = $1",
      [key],
    );
    const retry = await data.call('POST', '/v1/query', insertPart(label), headers(key));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await partsLabelled(label)).toBe(1);
  });
});

/** What the driver throws while the database is down. */
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A claim's release (its DELETE, not the sweep's), as the store sends it. */
const isRelease = (text: string) => /DELETE FROM plinth\.idempotency_claims\s+WHERE caller/.test(text);

/**
 * The server's database behind a switch: `releasesFailing` of the next claim releases are refused
 * as by a database that is down, or every statement while `down`. `releases` counts the tries.
 */
function flakyDatabase(database: Database) {
  const state = { releasesFailing: 0, down: false, releases: 0 };
  const flaky = Object.create(database) as Database;
  flaky.query = (async (text: string, params?: readonly unknown[]) => {
    if (isRelease(text)) state.releases++;
    if (state.down) throw refused();
    if (isRelease(text) && state.releasesFailing > 0) {
      state.releasesFailing--;
      throw refused();
    }
    return database.query(text, params);
  }) as Database['query'];
  return { flaky, state };
}

async function claimsFor(key: string): Promise<number> {
  const [row] = await data
    .server()
    .services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM plinth.idempotency_claims WHERE key = $1', [
      key,
    ]);
  return row?.n ?? 0;
}

function claimed(start: Awaited<ReturnType<ReturnType<typeof createIdempotencyStore>['begin']>>): IdempotencyScope {
  if (!('scope' in start)) throw new Error('expected a claim, got a replay');
  return start.scope;
}

describe('a release the database refused (it went down while the work ran)', () => {
  it('does not throw, and the same caller and key can claim again at once (not 409)', async () => {
    const { flaky, state } = flakyDatabase(data.server().services.database);
    const store = createIdempotencyStore(flaky);
    const key = randomUUID();
    const scope = claimed(await store.begin('service', key, 'same-request'));
    state.releasesFailing = 1;
    await expect(store.release(scope)).resolves.toBeUndefined();
    expect(await claimsFor(key)).toBe(1);
    // The retry, before any background try: the stale claim is released first, then claimed anew.
    const again = claimed(await store.begin('service', key, 'same-request'));
    expect(state.releases).toBe(2);
    expect(await claimsFor(key)).toBe(1);
    await store.release(again);
    expect(await claimsFor(key)).toBe(0);
  });

  it('is tried again in the background until it goes through, with no call needed', async () => {
    const { flaky, state } = flakyDatabase(data.server().services.database);
    const store = createIdempotencyStore(flaky);
    const key = randomUUID();
    const scope = claimed(await store.begin('service', key, 'same-request'));
    state.releasesFailing = 3;
    await store.release(scope);
    await vi.waitFor(async () => expect(await claimsFor(key)).toBe(0), { timeout: 15_000, interval: 50 });
    // The release's own try and two background ones refused, the third background one through.
    expect(state.releases).toBe(4);
  });

  it('answers a retry while the database is still down with its unavailable error, claiming nothing', async () => {
    const { flaky, state } = flakyDatabase(data.server().services.database);
    const store = createIdempotencyStore(flaky);
    const key = randomUUID();
    const scope = claimed(await store.begin('service', key, 'same-request'));
    state.down = true;
    await store.release(scope);
    const error = await store.begin('service', key, 'same-request').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    // The app answers this 503 with Retry-After, which the SDK retries.
    expect(isDatabaseUnavailable(error)).toBe(true);
    state.down = false;
    const later = claimed(await store.begin('service', key, 'same-request'));
    await store.release(later);
    expect(await claimsFor(key)).toBe(0);
  });

  it('a late release never removes a newer claim taken over once the first one lapsed', async () => {
    const database = data.server().services.database;
    const first = createIdempotencyStore(database);
    const key = randomUUID();
    const old = claimed(await first.begin('service', key, 'same-request'));
    await database.query(
      "UPDATE plinth.idempotency_claims SET expires_at = now() - interval '1 second' WHERE key = $1",
      [key],
    );
    // Another instance takes the lapsed claim over for the same request.
    const other = createIdempotencyStore(database);
    const current = claimed(await other.begin('service', key, 'same-request'));
    await first.release(old);
    expect(await claimsFor(key)).toBe(1);
    await expect(other.begin('service', key, 'same-request')).rejects.toMatchObject({ code: 'conflict' });
    await other.release(current);
    expect(await claimsFor(key)).toBe(0);
  });

  it('through the app: the failed call answers 503 with Retry-After, and its retry runs (not 409)', async () => {
    const database = data.server().services.database;
    const { query, dataTransaction } = database;
    database.dataTransaction = async () => {
      throw refused();
    };
    database.query = (async (text: string, params?: readonly unknown[]) => {
      if (isRelease(text)) throw refused();
      return query.call(database, text, params);
    }) as typeof database.query;
    const key = randomUUID();
    const label = `outage-${key}`;
    let failed: Awaited<ReturnType<typeof data.call>>;
    try {
      failed = await data.call('POST', '/v1/query', insertPart(label), headers(key));
    } finally {
      database.query = query;
      database.dataTransaction = dataTransaction;
    }
    expect(failed.status, JSON.stringify(failed.body)).toBe(503);
    expect(failed.headers.get('retry-after')).not.toBeNull();
    expect(failed.body?.error).toMatchObject({ code: 'service_unavailable' });
    const retry = await data.call('POST', '/v1/query', insertPart(label), headers(key));
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await partsLabelled(label)).toBe(1);
    expect(await claimsFor(key)).toBe(0);
  });
});

describe('keys are per caller', () => {
  it('another caller with the same key and body runs its own call, never gets the first answer', async () => {
    const store = createIdempotencyStore(data.server().services.database);
    const key = randomUUID();
    const first = await store.begin('service', key, 'same-request');
    if (!('scope' in first)) throw new Error('expected a claim');
    await store.finish(first.scope, { status: 200, headers: new Headers(), body: '{"mine":true}' });
    const replay = await store.begin('service', key, 'same-request');
    expect('replay' in replay && (await replay.replay.json())).toEqual({ mine: true });
    const other = await store.begin('key:another-api-key', key, 'same-request');
    expect('scope' in other).toBe(true);
  });

  it('a scoped API key is a caller apart from the service key and from users', () => {
    const apiKey = { id: 'k1', prefix: 'abcd1234', scopes: ['data:write' as const] };
    expect(idempotencyOwner({ kind: 'service' })).toBe('service');
    expect(idempotencyOwner({ kind: 'service', apiKey })).toBe('key:k1');
    expect(idempotencyOwner({ kind: 'user', userId: 'u1', sessionId: 's1' })).toBe('user:u1');
    expect(idempotencyOwner({ kind: 'anonymous' })).toBeUndefined();
  });
});
