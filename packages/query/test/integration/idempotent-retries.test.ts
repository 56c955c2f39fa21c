// A write whose answer is lost after the server committed it: the SDK retries with the same
// Idempotency-Key and the server replays the answer instead of writing again. A TCP proxy
// between the SDK and the real server cuts the connection when the answer starts to come back.
// PGlite by default, PostgreSQL when DATABASE_URL is set.
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createClient } from '@plinth/client';
import { sql } from '@plinth/query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useDataServer } from '../fixtures/data-server.js';

const { server, service } = useDataServer();

/**
 * A proxy on 127.0.0.1 to the server. Once armed, the next answer's first bytes are dropped and
 * the client's connection destroyed instead: the request reached the server and ran, the client
 * sees the connection fail.
 */
function cuttingProxy(target: URL) {
  let armed = false;
  let cuts = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      requests += chunk.toString('latin1').match(/^(POST|GET) \/v1\//gm)?.length ?? 0;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (armed) {
        armed = false;
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  return {
    listen: () =>
      new Promise<string>((resolve) =>
        proxy.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(proxy.address() as { port: number }).port}`)),
      ),
    /** Cuts the next answer. */
    cutNextAnswer: () => {
      armed = true;
    },
    counts: () => ({ cuts, requests }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

let proxy: ReturnType<typeof cuttingProxy>;
let proxied: ReturnType<typeof service>;
let itemId: number;

beforeAll(async () => {
  proxy = cuttingProxy(new URL(server().url));
  const url = await proxy.listen();
  proxied = createClient({
    url,
    publishableKey: server().publishableKey as string,
    serviceKey: server().serviceKey as string,
    // A retry soon after the cut; the policy is the SDK's own, only its first wait is shorter.
    retry: { limit: 2, baseDelay: 20 },
  });
  const [item] = await service()
    .from('items')
    .insert({ name: `proxy-parent-${randomUUID()}` })
    .returning('id');
  itemId = (item as { id: number }).id;
});

afterAll(async () => {
  await proxy?.close();
});

const partsLabelled = async (label: string) =>
  (await service().from('item_parts').select('id').where({ label })).length;

describe('a write whose answer is cut after the commit', () => {
  it('an insert is retried by the SDK and the table holds exactly one row', async () => {
    const label = `cut-insert-${randomUUID()}`;
    const before = proxy.counts();
    proxy.cutNextAnswer();
    const rows = await proxied.from('item_parts').insert({ item_id: itemId, label }).returning('id, label');
    const after = proxy.counts();
    expect(after.cuts - before.cuts).toBe(1);
    expect(after.requests - before.requests).toBe(2);
    expect(rows).toEqual([{ id: expect.any(Number), label }]);
    expect(await partsLabelled(label)).toBe(1);
  });

  it('a batch is retried by the SDK and each of its writes happened exactly once', async () => {
    const label = `cut-batch-${randomUUID()}`;
    const before = proxy.counts();
    proxy.cutNextAnswer();
    const [inserted, statement] = await proxied.batch([
      proxied.from('item_parts').insert({ item_id: itemId, label }).returning('id'),
      sql`insert into item_parts (item_id, label) values (${itemId}, ${label})`,
    ]);
    const after = proxy.counts();
    expect(after.cuts - before.cuts).toBe(1);
    expect(after.requests - before.requests).toBe(2);
    expect(inserted).toHaveLength(1);
    expect(statement).toMatchObject({ rowCount: 1 });
    expect(await partsLabelled(label)).toBe(2);
  });

  it('a sql statement sent with an idempotencyKey is retried too; without one it is not', async () => {
    const label = `cut-sql-${randomUUID()}`;
    proxy.cutNextAnswer();
    const result = await proxied.sql`insert into item_parts (item_id, label) values (${itemId}, ${label})`.execute({
      idempotencyKey: randomUUID(),
    });
    expect(result).toMatchObject({ rowCount: 1 });
    expect(await partsLabelled(label)).toBe(1);

    const unkeyed = `cut-sql-unkeyed-${randomUUID()}`;
    proxy.cutNextAnswer();
    await expect(
      proxied.sql`insert into item_parts (item_id, label) values (${itemId}, ${unkeyed})`.execute(),
    ).rejects.toMatchObject({ code: 'network_error' });
    // It ran once and was not sent again: the caller decides what to do.
    expect(await partsLabelled(unkeyed)).toBe(1);
  });
});
