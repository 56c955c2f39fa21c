import { describe, expect, it } from 'vitest';
import { jsonClient } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// admin.listUsers over 10 000 users made in one statement: half share one created_at to the
// microsecond (the id breaks the tie), and every tenth is disabled. A fresh server of its own,
// so the whole table is these users and `total` can be exact.

const generous = { capacity: 100_000, refillPerSecond: 10_000 };
const server = useTestServer({ rateRules: { default: generous } });
const call = jsonClient(() => server().url);
const asService = () => ({ authorization: `Bearer ${server().serviceKey}` });
const count = 10_000;

let seeded: Promise<string[]> | undefined;
/** The ids of the 10 000 users, made once. */
function seed(): Promise<string[]> {
  seeded ??= server()
    .services.database.query<{ id: string }>(
      `INSERT INTO plinth.users (email, email_verified_at, created_at, disabled_at)
       SELECT 'bulk-' || lpad(i::text, 5, '0') || '@bulk.test', now(),
              CASE WHEN i % 2 = 0 THEN now() ELSE now() - make_interval(secs => i / 1000000.0) END,
              CASE WHEN i % 10 = 0 THEN now() END
         FROM generate_series(0, $1 - 1) AS i
       RETURNING id`,
      [count],
    )
    .then((rows) => rows.map((row) => row.id));
  return seeded;
}

type Page = { users: { id: string; email: string; disabled: boolean }[]; nextCursor: string | null; total: number };

/** Every page of listUsers with `query`, calling `between` after each page. */
async function pageThrough(query: Record<string, string>, between?: (page: number) => Promise<void>) {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ ...query, ...(cursor === null ? {} : { cursor }) });
    const answer = await call('GET', `/v1/admin/users?${params}`, undefined, asService());
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const page = answer.body as Page;
    pages.push(page);
    cursor = page.nextCursor;
    await between?.(pages.length);
  } while (cursor !== null);
  return pages;
}

describe('admin.listUsers paging', () => {
  it('pages of 1000 return each of 10 000 users exactly once, with total 10 000', async () => {
    const ids = await seed();
    const pages = await pageThrough({ limit: '1000' });
    const seen = pages.flatMap((page) => page.users.map((user) => user.id));
    expect(pages.length).toBe(10);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...ids].sort());
    for (const page of pages) expect(page.total).toBe(count);
    expect(pages.at(-1)?.nextCursor).toBeNull();
  }, 120_000);

  it('pages of 7 return each user exactly once while users are added between pages', async () => {
    const ids = await seed();
    const added: string[] = [];
    const pages = await pageThrough({ limit: '7' }, async (page) => {
      if (page % 200 !== 0) return;
      const made = await call('POST', '/v1/admin/users', { email: `added-${page}@bulk.test` }, asService());
      expect(made.status).toBe(200);
      added.push(made.body?.user.id);
    });
    const seen = pages.flatMap((page) => page.users.map((user) => user.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages.every((page) => page.users.length <= 7)).toBe(true);
    // Every user there at the start, and the ones added (they sort after every seeded user).
    expect([...seen].sort()).toEqual([...ids, ...added].sort());
    expect(pages[0]?.total).toBe(count);
  }, 300_000);

  it('finds users by email prefix, case-insensitively, with LIKE’s characters taken literally', async () => {
    await seed();
    const found = await call('GET', '/v1/admin/users?emailPrefix=BULK-0001&limit=1000', undefined, asService());
    expect(found.status).toBe(200);
    expect(found.body?.total).toBe(10);
    expect(found.body?.users.map((user: { email: string }) => user.email).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `bulk-0001${i}@bulk.test`),
    );
    expect(found.body?.nextCursor).toBeNull();
    for (const literal of ['bulk_', '%', 'bulk-0001%', 'bulk\\']) {
      const none = await call(
        'GET',
        `/v1/admin/users?${new URLSearchParams({ emailPrefix: literal })}`,
        undefined,
        asService(),
      );
      expect({ literal, status: none.status, total: none.body?.total }).toEqual({ literal, status: 200, total: 0 });
    }
  });

  it('filters by status, and pages through a filter with the same cursor rules', async () => {
    await seed();
    const disabled = await pageThrough({ status: 'disabled', limit: '300', emailPrefix: 'bulk-' });
    const users = disabled.flatMap((page) => page.users);
    expect(disabled[0]?.total).toBe(1000);
    expect(users).toHaveLength(1000);
    expect(new Set(users.map((user) => user.id)).size).toBe(1000);
    expect(users.every((user) => user.disabled)).toBe(true);
    const active = await call('GET', '/v1/admin/users?status=active&emailPrefix=bulk-&limit=5', undefined, asService());
    expect(active.body?.total).toBe(9000);
    expect(active.body?.users.every((user: { disabled: boolean }) => !user.disabled)).toBe(true);
  });

  it('defaults to pages of 100', async () => {
    await seed();
    const page = await call('GET', '/v1/admin/users', undefined, asService());
    expect(page.body?.users).toHaveLength(100);
    expect(typeof page.body?.nextCursor).toBe('string');
  });
});
