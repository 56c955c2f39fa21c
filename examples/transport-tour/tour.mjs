// A tour of what the Plinth SDK does on the wire, against a stand-in for the server that
// answers two routes declared in @plinth/protocol. Run it with `pnpm dev` from the repo root.
import { createServer } from 'node:http';
import { createClient, isPlinthError } from '@plinth/client';
import { errorEnvelope, healthRoute, signInRoute } from '@plinth/protocol';

let healthCalls = 0;
const standIn = createServer((request, response) => {
  const requestId = request.headers['x-request-id'] ?? 'none';
  const send = (status, body, headers = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
  if (request.method === healthRoute.method && request.url === healthRoute.path) {
    // The first health check finds the server "busy", to show a retry that honours Retry-After.
    if (++healthCalls === 1)
      return send(503, errorEnvelope('service_unavailable', 'Starting up', requestId), { 'retry-after': '1' });
    return send(200, { status: 'ok', version: 'stand-in', database: { reachable: true } });
  }
  if (request.method === signInRoute.method && request.url === signInRoute.path) {
    return send(401, errorEnvelope('invalid_credentials', 'Email or password is wrong.', requestId));
  }
  send(404, errorEnvelope('route_not_found', `No route ${request.method} ${request.url}`, requestId));
});
await new Promise((resolve) => standIn.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${standIn.address().port}`;

const step = (title) => console.log(`\n── ${title}`);
const show = (error) => {
  if (!isPlinthError(error)) throw error;
  console.log(`   ${error.name} [${error.code}]${error.status ? ` HTTP ${error.status}` : ''}`);
  console.log(`   ${error.message}`);
};

const plinth = createClient({
  url,
  publishableKey: 'pk_demo',
  hooks: {
    beforeRequest: [
      (request, { attempt, requestId }) =>
        console.log(
          `   → ${request.method} ${new URL(request.url).pathname} (attempt ${attempt}, request id ${requestId.slice(0, 8)}…)`,
        ),
    ],
    afterResponse: [(response) => console.log(`   ← ${response.status}`)],
  },
});

step('A health check: the first answer is 503 with Retry-After: 1, so the SDK waits a second and retries');
console.log('   ', await plinth.health());

step('A wrong password: the error envelope becomes a typed AuthError');
await plinth.transport.call(signInRoute, { email: 'ada@example.com', password: 'not-my-password' }).catch(show);

step('Bad input is refused before any request is made, naming the field');
await plinth.transport.call(signInRoute, { email: 'not-an-email', password: 'x' }).catch(show);

step('A service key never travels over cleartext HTTP to another machine');
try {
  createClient({ url: 'http://api.example.com', publishableKey: 'pk_demo', serviceKey: 'sk_demo_secret' });
} catch (error) {
  show(error);
}

step('A secret key in the publishable-key slot is caught before it can ship to browsers');
try {
  createClient({ url, publishableKey: 'sk_demo_secret' });
} catch (error) {
  show(error);
}

standIn.close();
console.log('\nDone. The real server and sign-in page replace this tour in `pnpm dev` with the server issue.');
