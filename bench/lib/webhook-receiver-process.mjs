// The local receiver of the webhooks benchmark, in its own process (forked by webhooks.mjs), so
// that the sender and the receiver never share an event loop. Answers every POST with 204 after
// reading its body, and counts requests and distinct `webhook-id`s. Sends `{ type: 'ready', url }`
// once listening; answers `{ type: 'count' }` with `{ type: 'count', requests, ids }` and
// `{ type: 'reset' }` with `{ type: 'reset' }`. Exits when its parent goes.
import { createServer } from 'node:http';

let requests = 0;
let ids = new Set();
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    requests++;
    ids.add(request.headers['webhook-id']);
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}/hooks` });
});
process.on('message', (message) => {
  if (message?.type === 'count') process.send({ type: 'count', requests, ids: ids.size });
  if (message?.type === 'reset') {
    requests = 0;
    ids = new Set();
    process.send({ type: 'reset' });
  }
});
process.on('disconnect', () => process.exit(0));
