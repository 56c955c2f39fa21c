import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// GET /v1/admin/audit-log end to end: each filter returns only matching entries, paging sees
// every entry once (2 500 of them, with equal and microsecond-apart times, at limit 1000 and 7),
// and hostile input is a 400 naming its field, never a 500. Entries are inserted in SQL as the
// server's role (INSERT is what it may do), so their times and fields are known exactly.
// With DATABASE_URL set, on PostgreSQL.

const server = useTestServer({ rateRules: { default: { capacity: 100_000, refillPerSecond: 10_000 } } });
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const sql = (text: string, params: unknown[] = []) => server().services.database.query(text, params);

interface Entry {
  id: string;
  at: string;
  action: string;
  actor: { type: string; id: string | null } | null;
  target: string | null;
  details: Record<string, unknown>;
}

const list = async (query: string) => {
  const answer = await call('GET', `/v1/admin/audit-log?${query}`, undefined, asService());
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as { entries: Entry[]; nextCursor: string | null };
};

/** Every entry the query matches, following nextCursor to the end. */
const listAll = async (query: string, limit: number) => {
  const seen: Entry[] = [];
  let cursor: string | null = null;
  do {
    const page: { entries: Entry[]; nextCursor: string | null } = await list(
      `${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.entries.length).toBeLessThanOrEqual(limit);
    seen.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return seen;
};

describe('filters', () => {
  const alice = randomUUID();
  const bob = randomUUID();
  const key = `key_${randomUUID().slice(0, 8)}`;
  const target = `user:${randomUUID()}`;

  beforeAll(async () => {
    // Times in 2031, apart from every entry the server itself writes (now).
    const rows: [string, string, string | null, string | null, string | null][] = [
      ['2031-01-01T00:00:00.000001Z', 'filtertest.one', 'user', alice, target],
      ['2031-01-01T00:00:00.000002Z', 'filtertest.two', 'user', alice, null],
      ['2031-01-01T00:00:00.000003Z', 'filtertest.one', 'user', bob, target],
      ['2031-01-02T00:00:00Z', 'filtertestx.one', 'api_key', key, null],
      ['2031-01-03T00:00:00Z', 'filter_test.one', 'service', null, null],
      ['2031-01-04T00:00:00Z', 'filterxtest.one', null, null, target],
    ];
    for (const [at, action, actorType, actorId, what] of rows)
      await sql(
        `INSERT INTO plinth.audit_log (at, action, actor_type, actor_id, target, details)
         VALUES ($1::text::timestamptz, $2, $3, $4, $5, '{"test": "filters"}')`,
        [at, action, actorType, actorId, what],
      );
  });

  const actionsOf = (page: { entries: Entry[] }) => page.entries.map((entry) => entry.action);

  it('actor: only that actor’s entries, newest first', async () => {
    const page = await list(`actor=${alice}`);
    expect(actionsOf(page)).toEqual(['filtertest.two', 'filtertest.one']);
    expect(page.entries.every((entry) => entry.actor?.id === alice && entry.actor.type === 'user')).toBe(true);
    expect((await list(`actor=${key}`)).entries.map((entry) => entry.actor)).toEqual([{ type: 'api_key', id: key }]);
  });

  it('actorType: only entries of that kind of actor', async () => {
    const page = await list('actorType=api_key&since=2031-01-01T00:00:00Z');
    expect(actionsOf(page)).toEqual(['filtertestx.one']);
    const services = await list('actorType=service&since=2031-01-01T00:00:00Z');
    expect(services.entries.map((entry) => entry.actor)).toEqual([{ type: 'service', id: null }]);
  });

  it('action: exactly, or by a prefix ending in .*, whose _ is not a wildcard', async () => {
    expect(actionsOf(await list('action=filtertest.one'))).toEqual(['filtertest.one', 'filtertest.one']);
    expect(actionsOf(await list('action=filtertest.*'))).toEqual([
      'filtertest.one',
      'filtertest.two',
      'filtertest.one',
    ]);
    // `filter_test.*` must not match `filterxtest.one`, as LIKE's `_` would.
    expect(actionsOf(await list('action=filter_test.*'))).toEqual(['filter_test.one']);
    expect(actionsOf(await list('action=filtertest'))).toEqual([]);
  });

  it('target: exactly', async () => {
    const page = await list(`target=${target}`);
    expect(actionsOf(page)).toEqual(['filterxtest.one', 'filtertest.one', 'filtertest.one']);
    expect(page.entries.every((entry) => entry.target === target)).toBe(true);
  });

  it('since and until: inclusive, to the microsecond', async () => {
    const page = await list('since=2031-01-01T00:00:00.000002Z&until=2031-01-02T00:00:00Z');
    expect(actionsOf(page)).toEqual(['filtertestx.one', 'filtertest.one', 'filtertest.two']);
    expect(page.entries.map((entry) => entry.at)).toEqual([
      '2031-01-02T00:00:00.000000Z',
      '2031-01-01T00:00:00.000003Z',
      '2031-01-01T00:00:00.000002Z',
    ]);
    // Another time zone names the same instant.
    expect(actionsOf(await list('since=2031-01-03T01:00:00%2B01:00&until=2031-01-03T00:00:00Z'))).toEqual([
      'filter_test.one',
    ]);
  });

  it('filters together narrow together', async () => {
    expect(actionsOf(await list(`actor=${alice}&action=filtertest.one&target=${target}`))).toEqual(['filtertest.one']);
    expect(actionsOf(await list(`actor=${bob}&action=filtertest.two`))).toEqual([]);
  });
});

describe('paging through 2 500 entries', () => {
  beforeAll(async () => {
    // Times out of id order, three entries to each microsecond: the order is (at, id), and a
    // cursor that kept only milliseconds would repeat or skip entries.
    await sql(
      `INSERT INTO plinth.audit_log (at, action, target, details)
       SELECT timestamptz '2030-06-01T00:00:00Z' + ((n * 7919) % 834) * interval '1 microsecond',
              'pagingtest.entry', 'paging:' || n, jsonb_build_object('n', n)
         FROM generate_series(1, 2500) AS n`,
    );
  }, 60_000);

  const expected = async () =>
    (
      (await sql(
        // entry_id, not id: ORDER BY id would sort by the output column, the id as text.
        `SELECT id::text AS entry_id FROM plinth.audit_log WHERE action = 'pagingtest.entry' ORDER BY at DESC, id DESC`,
      )) as { entry_id: string }[]
    ).map((row) => row.entry_id);

  it.each([1000, 7])('at limit %i: each entry exactly once, newest first', async (limit) => {
    const seen = await listAll('action=pagingtest.entry', limit);
    expect(seen).toHaveLength(2500);
    expect(new Set(seen.map((entry) => entry.id)).size).toBe(2500);
    expect(seen.map((entry) => entry.id)).toEqual(await expected());
    // Newest first, by the answered times too.
    const times = seen.map((entry) => entry.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('without filters: the whole log, each entry once, the 2 500 among them', async () => {
    const seen = await listAll('', 1000);
    const [total] = (await sql('SELECT count(*)::int AS n FROM plinth.audit_log')) as { n: number }[];
    expect(seen).toHaveLength(total?.n ?? -1);
    expect(new Set(seen.map((entry) => entry.id)).size).toBe(seen.length);
    expect(seen.filter((entry) => entry.action === 'pagingtest.entry')).toHaveLength(2500);
  });

  it('defaults to 100 a page', async () => {
    const page = await list('action=pagingtest.entry');
    expect(page.entries).toHaveLength(100);
    expect(page.nextCursor).toEqual(expect.any(String));
  });
});

describe('hostile input: a 400 naming the field, never a 500', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const cases: [string, string, string][] = [
    ['a time that is not one', 'since=yesterday', 'since'],
    ['a date without a time', 'until=2026-01-01', 'until'],
    ['30 February', 'since=2026-02-30T00:00:00Z', 'since'],
    ['year 0000', 'until=0000-01-01T00:00:00Z', 'until'],
    ['a time without a zone', 'since=2026-01-01T00:00:00', 'since'],
    ['limit 0', 'limit=0', 'limit'],
    ['limit 1001', 'limit=1001', 'limit'],
    ['limit x', 'limit=x', 'limit'],
    ['limit 1.5', 'limit=1.5', 'limit'],
    ['a cursor that is garbage', 'cursor=%25%27%3B--', 'cursor'],
    ['a cursor of base64url garbage', `cursor=${Buffer.from('garbage').toString('base64url')}`, 'cursor'],
    ['a cursor on 30 February', `cursor=${encode(['2026-02-30T00:00:00.000000Z', '1'])}`, 'cursor'],
    ['a cursor with an id past bigint', `cursor=${encode(['2026-01-01T00:00:00.000000Z', '9'.repeat(19)])}`, 'cursor'],
    ['a cursor with SQL for an id', `cursor=${encode(['2026-01-01T00:00:00.000000Z', '1 OR 1=1'])}`, 'cursor'],
    ['an action with SQL in it', `action=${encodeURIComponent("admin.x'; DROP TABLE plinth.audit_log; --")}`, 'action'],
    ['an action with a LIKE wildcard', 'action=admin.%25', 'action'],
    ['an action prefix without its dot', 'action=admin*', 'action'],
    ['an action over 100 characters', `action=a${'.b'.repeat(60)}`, 'action'],
    ['actorType not in the enum', 'actorType=root', 'actorType'],
    ['an actor with a control character', 'actor=a%00b', 'actor'],
    ['a target over 300 characters', `target=${'t'.repeat(301)}`, 'target'],
    ['an action given twice', 'action=auth.sign_in&action=admin.*', 'action'],
  ];

  it.each(cases)('%s', async (_what, query, field) => {
    const answer = await call('GET', `/v1/admin/audit-log?${query}`, undefined, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body?.error.code).toBe('validation_failed');
    expect(answer.body?.error.details.field).toBe(field);
    expect(answer.body?.error.message).toContain(field);
  });

  it('a deeply nested query (qs style) is an unknown key, named', async () => {
    const key = `action${'[a]'.repeat(200)}`;
    const answer = await call('GET', `/v1/admin/audit-log?${encodeURIComponent(key)}=1`, undefined, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body?.error.code).toBe('validation_failed');
    expect(answer.body?.error.message).toContain('unexpected key(s) action[a][a]');
  });

  it('after all of that, the log is still there and still answers', async () => {
    await sql(`INSERT INTO plinth.audit_log (action) VALUES ('hostiletest.alive')`);
    expect((await list('action=hostiletest.alive')).entries).toHaveLength(1);
  });
});
