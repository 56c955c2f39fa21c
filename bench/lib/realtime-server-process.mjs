// One event-stream server for the realtime benchmark, in its own process (forked by realtime.mjs
// through http.mjs's startTarget), so that the subscribers in the parent and the server never
// share an event loop. argv[2] is JSON: `{ kind: 'plinth', database, rateRules }` for Plinth on
// `database` (`memory`, or a PostgreSQL URL) with a published table `public.bench_realtime` (its
// keys in `headers`), or `{ kind: 'bare' }` for a bare Hono SSE endpoint at the same path that
// pushes what it is told to every connection, with no log, no ticket and no filter. Answers
// `{ type: 'ready', url, headers }` (or `{ type: 'error', message }`), then `cpu` and `close` as
// every server process does (child-messages.mjs), and:
// - `{ type: 'pace', rate, count, channel, body }`: `count` writes at `rate` a second, each
//   stamped with the time it was due (`process.hrtime`, in µs): on Plinth a row inserted into
//   the published table (the row change reaches streams through its trigger and the log), on the
//   bare server an event pushed to every stream. Answers `{ type: 'paced', written, failures,
//   firstError, seconds, mostInFlight }` once every write has settled.
// - `{ type: 'publish', channel, count, batch, body }`: `count` events, `batch` per transaction on
//   Plinth (in pages of `batch` per turn of the event loop on the bare server), as fast as they
//   go. Answers `{ type: 'published', seconds }`.
// - `{ type: 'memory' }`: two full garbage collections, then `{ type: 'memory', rssMiB,
//   heapUsedMiB, externalMiB, streams }` (streams: how many are open now).
// - `{ type: 'streams' }`: `{ type: 'streams', streams }`, without a collection.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { serve } from '@hono/node-server';
import { startServer } from '@plinth/server';
import { Hono } from 'hono';
import { answerParent } from './child-messages.mjs';
import { pace } from './realtime.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
// The Plinth server's schema directory, removed on the way out.
let schemaDir;
// If the parent goes away (Ctrl-C, a crash), so does this server.
process.on('disconnect', () => {
  if (schemaDir) rmSync(schemaDir, { recursive: true, force: true });
  process.exit(0);
});
const mib = 1024 * 1024;
const encoder = new TextEncoder();

// http.mjs's startTarget forks without V8 flags; this is `--expose-gc` set from inside, so that
// the memory figures are of what is live, not of garbage a collection has not reached yet.
v8.setFlagsFromString('--expose-gc');
const gc = globalThis.gc ?? vm.runInNewContext('gc');

// What Plinth's stream sends and how (event-stream.ts): the bare server answers alike.
const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};
const maxQueuedBytes = 4 * 1024 * 1024;

async function startPlinth() {
  // The benchmark's own table, published; in a directory of its own so that the other sections'
  // schema (bench/schema) is not touched.
  schemaDir = mkdtempSync(join(tmpdir(), 'plinth-bench-realtime-'));
  writeFileSync(
    join(schemaDir, '001-bench-realtime.sql'),
    `CREATE TABLE IF NOT EXISTS public.bench_realtime (
       id bigserial PRIMARY KEY,
       n integer NOT NULL,
       sent_us bigint NOT NULL,
       body text NOT NULL
     );
     SELECT plinth.publish_table('public.bench_realtime');
     -- The server's role writes the rows itself, in its own process: no HTTP in this path.
     GRANT INSERT ON public.bench_realtime TO plinth_server;
     GRANT USAGE ON SEQUENCE public.bench_realtime_id_seq TO plinth_server;`,
  );
  let server;
  try {
    server = await startServer({
      database: config.database,
      logLevel: 'silent',
      rateRules: config.rateRules,
      validateResponses: false,
      schemaDir,
    });
  } catch (error) {
    rmSync(schemaDir, { recursive: true, force: true });
    throw error;
  }
  const { database, realtime } = server.services;
  return {
    url: server.url,
    headers: { serviceKey: server.serviceKey, publishableKey: server.publishableKey },
    streams: () => realtime.openStreams,
    // One INSERT per event, each its own transaction, as an app's writes would be.
    pace: ({ rate, count, body }) =>
      pace({
        rate,
        count,
        send: (n, dueUs) =>
          database.query('INSERT INTO public.bench_realtime (n, sent_us, body) VALUES ($1, $2, $3)', [
            n,
            String(dueUs),
            body,
          ]),
      }),
    // `batch` events per transaction through plinth.publish_events (one lock, one INSERT, one
    // NOTIFY), as the server writes a batch: the figure is delivery, not how fast the log takes
    // one transaction per event (the latency part measures that).
    publish: async ({ channel, count, batch, body }) => {
      for (let first = 0; first < count; first += batch) {
        const last = Math.min(first + batch, count) - 1;
        await database.query(
          `SELECT count(*) FROM plinth.publish_events((
             SELECT jsonb_agg(jsonb_build_object('channel', $1::text, 'type', 'bench',
                      'payload', jsonb_build_object('n', n, 'body', $2::text)) ORDER BY n)
               FROM generate_series($3::int, $4::int) AS n))`,
          [channel, body, first, last],
        );
      }
    },
    close: async () => {
      await server.close();
      rmSync(schemaDir, { recursive: true, force: true });
    },
  };
}

async function startBare() {
  const streams = new Set();
  let head = 0;
  const app = new Hono();
  app.get('/v1/realtime/stream', () => {
    let entry;
    const body = new ReadableStream(
      {
        start(controller) {
          entry = { controller };
          streams.add(entry);
          controller.enqueue(
            encoder.encode(
              `retry: 2000\nid: ${head}\nevent: ready\ndata: ${JSON.stringify({ cursor: String(head) })}\n\n`,
            ),
          );
        },
        cancel() {
          streams.delete(entry);
        },
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
    return new Response(body, { headers: sseHeaders });
  });
  // The message Plinth would send for the same event: made once, queued on every stream, and a
  // stream that falls 4 MiB behind is closed, as Plinth's is.
  const push = (channel, payload) => {
    const id = String(++head);
    const event = { id, channel, type: 'bench', payload, at: new Date().toISOString() };
    const frame = encoder.encode(`id: ${id}\nevent: bench\ndata: ${JSON.stringify(event)}\n\n`);
    for (const entry of streams) {
      entry.controller.enqueue(frame);
      if (entry.controller.desiredSize < -maxQueuedBytes) {
        streams.delete(entry);
        entry.controller.close();
      }
    }
  };
  // The same serve() options as startServer's, so the two differ only in what the app does.
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false });
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    headers: {},
    streams: () => streams.size,
    pace: ({ rate, count, channel, body }) =>
      pace({ rate, count, send: async (n, dueUs) => push(channel, { n, sentUs: dueUs, body }) }),
    publish: async ({ channel, count, batch, body }) => {
      for (let first = 0; first < count; first += batch) {
        for (let n = first; n < Math.min(first + batch, count); n++) push(channel, { n, body });
        // A turn of the event loop per page, as Plinth's reader takes one per page it reads.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const entry of streams) entry.controller.close();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function settledMemory(running) {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rssMiB: rss / mib, heapUsedMiB: heapUsed / mib, externalMiB: external / mib, streams: running.streams() };
}

function answerRealtime(running) {
  process.on('message', async (message) => {
    try {
      if (message?.type === 'pace') {
        process.send({ type: 'paced', ...(await running.pace(message)) });
      } else if (message?.type === 'publish') {
        const began = performance.now();
        await running.publish(message);
        process.send({ type: 'published', seconds: (performance.now() - began) / 1000 });
      } else if (message?.type === 'streams') {
        process.send({ type: 'streams', streams: running.streams() });
      } else if (message?.type === 'memory') {
        process.send({ type: 'memory', ...(await settledMemory(running)) });
      }
    } catch (error) {
      process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  });
}

const starters = { plinth: startPlinth, bare: startBare };

try {
  const start = starters[config.kind];
  if (!start) throw new Error(`no realtime server of kind ${config.kind}; the kinds are plinth and bare`);
  const running = await start();
  answerParent(() => running.close());
  answerRealtime(running);
  process.send({ type: 'ready', url: running.url, headers: running.headers });
} catch (error) {
  process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) }, () =>
    process.exit(1),
  );
}
