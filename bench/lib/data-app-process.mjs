// An app server as a user would write one, in its own process (forked by sdk.mjs): each request
// reads one row by primary key and answers it as JSON, through one of three clients, by path:
// `/direct` with `postgres`, `/sdk` with Plinth's SDK (→ the Plinth server → PostgreSQL), and
// `/floor` with a bare fetch to a server that does no work. autocannon loads it from the parent.
// argv[2] is JSON `{ databaseUrl, plinthUrl, publishableKey, serviceKey, floorUrl, callers }`;
// answers over IPC with `{ type: 'ready', url }`, and exits when its parent goes.
import http from 'node:http';
import { createClient } from '@plinth/client';
import postgres from 'postgres';

const config = JSON.parse(process.argv[2]);
process.on('disconnect', () => process.exit(0));

const rows = 10_000;
const sql = postgres(config.databaseUrl, { max: config.callers, prepare: true, onnotice: () => {} });
const plinth = createClient({
  url: config.plinthUrl,
  publishableKey: config.publishableKey,
  serviceKey: config.serviceKey,
});
const readers = {
  '/direct': async (id) =>
    (await sql.unsafe('SELECT id, name, score FROM public.bench_rows WHERE id = $1', [id], { prepare: true }))[0],
  '/sdk': (id) => plinth.from('bench_rows').select('id, name, score').where({ id }).single(),
  '/floor': async (id) => {
    const response = await fetch(config.floorUrl, { method: 'POST', body: `{"id":${id}}` });
    const body = await response.json();
    return { ...body.rows[0], id };
  },
};

let next = 0;
const server = http.createServer(async (request, response) => {
  const read = readers[request.url];
  if (!read) {
    response.writeHead(404).end();
    return;
  }
  try {
    const row = await read((next++ % rows) + 1);
    const body = JSON.stringify(row);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  } catch (error) {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
});
server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}` });
});
