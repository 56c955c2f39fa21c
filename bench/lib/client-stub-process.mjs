// The stub servers of the client benchmark (forked by client.mjs), in their own process so that
// their CPU time is not counted in the measuring one. Both answer at once, each in its own wire
// format, the row the request asks for (`{ id, name: 'row <id>' }`):
// - Plinth: `POST /v1/query` with a query AST (`where: { column: 'id', op: 'eq', value }`), answered
//   `{ rows: [row], rowCount: 1 }` as the Plinth server answers a select without paging;
// - PostgREST: `GET /rest/v1/t?select=id,name&id=eq.N` with `Accept: application/vnd.pgrst.object+json`,
//   answered with the object itself, as PostgREST answers a `.single()`.
// Anything else is a 404 (or 406 for a PostgREST read not asking for one object), so a client that
// sent something other than what the benchmark expects fails its check instead of being measured.
// Answers over IPC with `{ type: 'ready', plinthUrl, postgrestUrl }`; exits when its parent goes.
import http from 'node:http';

process.on('disconnect', () => process.exit(0));

const row = (id) => JSON.stringify({ id, name: `row ${id}` });

function answer(response, status, type, body) {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

const plinth = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/v1/query') {
      answer(response, 404, 'application/json', '{"error":{"code":"not_found","message":"no such route"}}');
      return;
    }
    let id;
    try {
      const query = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (query.op === 'select' && query.where?.column === 'id' && query.where.op === 'eq') id = query.where.value;
    } catch {
      // answered below
    }
    if (typeof id !== 'number') {
      answer(response, 400, 'application/json', '{"error":{"code":"invalid_request","message":"not a read by id"}}');
      return;
    }
    answer(response, 200, 'application/json', `{"rows":[${row(id)}],"rowCount":1}`);
  });
});

const postgrest = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const url = new URL(request.url, 'http://stub');
    const match = /^eq\.(\d+)$/.exec(url.searchParams.get('id') ?? '');
    if (request.method !== 'GET' || url.pathname !== '/rest/v1/t' || !match) {
      answer(
        response,
        404,
        'application/json',
        '{"code":"PGRST125","message":"Invalid path specified in request URL"}',
      );
      return;
    }
    if (request.headers.accept !== 'application/vnd.pgrst.object+json') {
      answer(response, 406, 'application/json', '{"code":"PGRST107","message":"not a single-object read"}');
      return;
    }
    answer(response, 200, 'application/vnd.pgrst.object+json; charset=utf-8', row(Number(match[1])));
  });
});

const listen = (server) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });

const [plinthUrl, postgrestUrl] = await Promise.all([listen(plinth), listen(postgrest)]);
process.send({ type: 'ready', plinthUrl, postgrestUrl });
