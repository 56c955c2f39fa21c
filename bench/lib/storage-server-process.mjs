// One upload server for the storage benchmark, in its own process (forked by storage.mjs through
// http.mjs's startTarget), so that the uploading client in the parent and the server never share
// an event loop. argv[2] is JSON: `{ kind: 'plinth', storageDir, rateRules, requestTimeoutMs }`
// for Plinth on PGlite in memory with the local driver in `storageDir` (its keys in `headers`),
// or `{ kind: 'tus', directory }` for @tus/server with @tus/file-store in `directory`, on
// node:http. Answers `{ type: 'ready', url, headers }` (or `{ type: 'error', message }`), then
// `cpu` and `close` as every server process does (child-messages.mjs), and:
// - `{ type: 'rss-start' }`: samples its own RSS every `rssSampleMs` from now on; answers
//   `{ type: 'rss-started', startMiB }`;
// - `{ type: 'rss-stop' }`: stops sampling; answers `{ type: 'rss', startMiB, peakMiB, peakGrowthMiB }`,
//   the largest RSS seen since `rss-start` and its growth over the RSS then.
import { createServer } from 'node:http';
import { startServer } from '@plinth/server';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import { answerParent } from './child-messages.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
// If the parent goes away (Ctrl-C, a crash), so does this server.
process.on('disconnect', () => process.exit(0));
const mib = 1024 * 1024;
const rssSampleMs = config.rssSampleMs ?? 20;

async function startPlinth() {
  const server = await startServer({
    database: 'memory',
    storageDir: config.storageDir,
    logLevel: 'silent',
    rateRules: config.rateRules,
    validateResponses: false,
    // Node's bound on receiving a whole request (default 30 s) would cut a slow upload of a large
    // file: the benchmark measures throughput, so the parent sets it above its own deadline.
    requestTimeoutMs: config.requestTimeoutMs,
  });
  return {
    url: server.url,
    headers: { serviceKey: server.serviceKey, publishableKey: server.publishableKey },
    close: () => server.close(),
  };
}

async function startTus() {
  const tus = new TusServer({ path: '/files', datastore: new FileStore({ directory: config.directory }) });
  const server = createServer((request, response) => tus.handle(request, response));
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(0, '127.0.0.1');
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/files`,
    headers: {},
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // The client's keep-alive connection would hold close() open.
        server.closeIdleConnections();
      }),
  };
}

/** Answers `rss-start` and `rss-stop`: the peak of this process's RSS between the two. */
function answerRss() {
  let sampling;
  process.on('message', (message) => {
    if (message?.type === 'rss-start') {
      clearInterval(sampling?.timer);
      const start = process.memoryUsage.rss();
      const state = { start, peak: start, timer: undefined };
      state.timer = setInterval(() => {
        state.peak = Math.max(state.peak, process.memoryUsage.rss());
      }, rssSampleMs);
      sampling = state;
      process.send({ type: 'rss-started', startMiB: start / mib });
      return;
    }
    if (message?.type !== 'rss-stop') return;
    if (!sampling) {
      process.send({ type: 'error', message: 'rss-stop came before rss-start' });
      return;
    }
    clearInterval(sampling.timer);
    const peak = Math.max(sampling.peak, process.memoryUsage.rss());
    process.send({
      type: 'rss',
      startMiB: sampling.start / mib,
      peakMiB: peak / mib,
      peakGrowthMiB: (peak - sampling.start) / mib,
    });
    sampling = undefined;
  });
}

const starters = { plinth: startPlinth, tus: startTus };

try {
  const start = starters[config.kind];
  if (!start) throw new Error(`no storage server of kind ${config.kind}; the kinds are plinth and tus`);
  const running = await start();
  answerParent(() => running.close());
  answerRss();
  process.send({ type: 'ready', url: running.url, headers: running.headers });
} catch (error) {
  process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) }, () =>
    process.exit(1),
  );
}
