// The data benchmark's baseline (forked by data.mjs through http.mjs's startTarget): the route an
// app would write by hand instead of Plinth's data API, for the one query the benchmark sends. A
// Hono app on @hono/node-server (the same serve() options as startServer) answering the same
// headers and body the SDK sends to Plinth's `POST /v1/query`, written two ways:
// - `POST /v1/query`, as Hono's guide writes a route: `c.req.header()`, `await c.req.json()`
//   (which makes the web Request and its body stream), `c.json()` (a web Response);
// - `POST /lean/v1/query`, as Plinth itself does it on Node: headers from Node's request, the
//   body read straight from Node's stream, the JSON written straight to Node's response.
// Both do the same work:
// - `authorization: Bearer <service key>`, checked with a constant-time compare;
// - the id read from the body's `where.value` (the body is parsed, nothing else is checked);
// - without `x-plinth-act-as`, the service case: `SELECT id, name, score FROM public.bench_rows
//   WHERE id = $1`, prepared, with `postgres` on connections that start as plinth_service with
//   the service claims and the statement timeout as startup parameters, as Plinth's do;
// - with `x-plinth-act-as: <access token>`, the user case: the token's Ed25519 signature and
//   `exp` checked once and remembered (Plinth too remembers a checked token), then the same
//   prepared select in a transaction opened with Plinth's three `SET LOCAL`s (role
//   plinth_authenticated, `request.jwt.claims` as Plinth writes them, statement_timeout), so
//   row-level security applies exactly as it does to Plinth's statement.
// Answers `{ rows, rowCount, nextCursor: null }`, as Plinth does; 401 or 400 for a request that
// is not the benchmark's.
// argv[2] is JSON `{ database, serviceKey, publicJwk, statementTimeoutMs, connections }`; speaks
// server-process.mjs's IPC (ready, cpu, close) and exits when its parent goes.
import { createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { serve } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import postgres from 'postgres';
import { answerParent } from './child-messages.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
process.on('disconnect', () => process.exit(0));

const statement = 'SELECT id, name, score FROM public.bench_rows WHERE id = $1';
const timeout = Math.trunc(config.statementTimeoutMs);
const quiet = { onnotice: () => {}, max: config.connections, prepare: true };
// The service case: one statement, no transaction, on connections that start as the role.
const asService = postgres(config.database, {
  ...quiet,
  connection: {
    role: 'plinth_service',
    statement_timeout: String(timeout),
    'request.jwt.claims': JSON.stringify({ role: 'service' }),
  },
});
// The user case: a transaction per request that sets the role and claims itself.
const asUsers = postgres(config.database, quiet);

const expectedAuthorization = Buffer.from(`Bearer ${config.serviceKey}`);
function serviceKeyMatches(header) {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expectedAuthorization.length && timingSafeEqual(given, expectedAuthorization);
}

const publicKey = createPublicKey({ key: config.publicJwk, format: 'jwk' });
// Access token → its claims as `request.jwt.claims` text, until the token's `exp`.
const checkedTokens = new Map();
const literal = (value) => `'${value.replaceAll("'", "''")}'`;

/** The `SET LOCAL`s for a user's access token, or undefined if the token does not check out. */
function userSetup(token) {
  const known = checkedTokens.get(token);
  if (known !== undefined && known.expiresAtMs > Date.now()) return known.setup;
  const [header, payload, signature] = token.split('.');
  if (signature === undefined) return undefined;
  const signed = Buffer.from(`${header}.${payload}`);
  if (!verify(null, signed, publicKey, Buffer.from(signature, 'base64url'))) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return undefined;
  const setup = [
    'SET LOCAL ROLE plinth_authenticated',
    `SET LOCAL "request.jwt.claims" = ${literal(JSON.stringify({ role: 'authenticated', sub: claims.sub, sid: claims.sid }))}`,
    `SET LOCAL statement_timeout = ${timeout}`,
  ].join('; ');
  checkedTokens.set(token, { setup, expiresAtMs: claims.exp * 1000 });
  return setup;
}

/** The work of both routes: status and body for the request's headers and parsed body. */
async function answer(authorization, actAs, query) {
  if (!serviceKeyMatches(authorization)) return { status: 401, body: { error: 'unauthenticated' } };
  const id = query?.where?.value;
  if (!Number.isSafeInteger(id)) return { status: 400, body: { error: 'validation_failed' } };
  let rows;
  if (actAs === undefined) {
    rows = await asService.unsafe(statement, [id], { prepare: true });
  } else {
    const setup = userSetup(actAs.startsWith('Bearer ') ? actAs.slice(7) : actAs);
    if (setup === undefined) return { status: 401, body: { error: 'unauthenticated' } };
    rows = await asUsers.begin(async (tx) => {
      await tx.unsafe(setup).simple();
      return tx.unsafe(statement, [id], { prepare: true });
    });
  }
  return { status: 200, body: { rows, rowCount: rows.length, nextCursor: null } };
}

const app = new Hono();
app.post('/v1/query', async (c) => {
  const { status, body } = await answer(
    c.req.header('authorization'),
    c.req.header('x-plinth-act-as'),
    await c.req.json(),
  );
  return c.json(body, status);
});
app.post('/lean/v1/query', async (c) => {
  const { incoming, outgoing } = c.env;
  const chunks = [];
  for await (const chunk of incoming) chunks.push(chunk);
  const { headers } = incoming;
  const { status, body } = await answer(
    headers.authorization,
    headers['x-plinth-act-as'],
    JSON.parse(Buffer.concat(chunks).toString('utf8')),
  );
  const text = JSON.stringify(body);
  outgoing.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  outgoing.end(text);
  return RESPONSE_ALREADY_SENT;
});

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false });
await new Promise((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
answerParent(async () => {
  await new Promise((resolve) => server.close(() => resolve()));
  await Promise.all([asService.end({ timeout: 5 }), asUsers.end({ timeout: 5 })]);
});
process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}`, headers: {} });
