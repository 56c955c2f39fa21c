// One server to load, in its own process (forked by http.mjs), so that autocannon in the parent
// and the server never share an event loop. argv[2] is JSON: `{ kind: 'baseline' }` for the
// constant-JSON Hono route (GET; a POST reads its body and answers one row: the data benchmark's
// floor), or `{ kind: 'plinth', database, rateRules }` for Plinth's `GET /v1/auth/me` with a
// session cookie, or `{ kind: 'data', database, rateRules }` for the data API over the
// benchmark's own schema (its keys and a signed-in user's access token in `headers`), or
// `{ kind: 'timing', database, rateRules, knownEmail }` for the timing benchmark (the email signed
// up, nothing else). Answers over IPC with `{ type: 'ready', url, headers }` (or `{ type: 'error',
// message }`); on `{ type: 'close' }` it reports its RSS, stops and exits; on `{ type: 'cpu' }` it
// answers `{ type: 'cpu', micros }`, its CPU time so far.
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createOutboxMailer, startServer } from '@plinth/server';
import { Hono } from 'hono';
import { createLogger } from '../../packages/server/dist/logger.js';
import { answerParent } from './child-messages.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
// If the parent goes away (Ctrl-C, a crash), so does this server.
process.on('disconnect', () => process.exit(0));
const appOrigin = 'http://localhost:5173';
const email = 'bench@example.com';
const password = 'correct horse battery staple';

async function startBaseline() {
  const app = new Hono();
  app.get('/constant', (c) => c.json({ ok: true }));
  // The data benchmark's floor: a POST whose body is read and answered with a row, no other work.
  app.post('/constant', async (c) => {
    await c.req.arrayBuffer();
    return c.json({ rows: [{ id: 42, name: 'row 42', score: 42 }], rowCount: 1 });
  });
  // The same serve() options as startServer's, so the two differ only in what the app does.
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false });
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const url = `http://127.0.0.1:${server.address().port}/constant`;
  const answer = await fetch(url);
  const body = await answer.json();
  if (answer.status !== 200 || body.ok !== true) throw new Error(`baseline answered ${answer.status}`);
  return {
    url,
    headers: {},
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function call(base, method, path, body, headers = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

function expectStatus(step, answer, status) {
  if (answer.status !== status) {
    throw new Error(`${step} answered ${answer.status}, not ${status}: ${JSON.stringify(answer.body)}`);
  }
}

/** The token in the newest mail to `to` of `type`; mail is sent in the background, so it waits (≤ 10 s). */
async function tokenFromMail(outbox, to, type) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const message = [...outbox.messages].reverse().find((m) => m.to === to && m.text.includes(`type=${type}`));
    const token = message?.text.match(/token=([A-Za-z0-9_-]+)/)?.[1];
    if (token) return token;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no ${type} mail to ${to} within 10 s`);
}

/**
 * Plinth with the outbox mailer (keeping at most `outboxLimit` messages), the app origin and the
 * run's rate rules (and any `more` of startServer's options); answers are not re-checked against
 * their schemas, as in production.
 */
async function startMailingPlinth(outboxLimit, more = {}) {
  const outbox = createOutboxMailer(createLogger('silent'), outboxLimit);
  const server = await startServer({
    ...more,
    database: config.database,
    logLevel: 'silent',
    mailer: outbox,
    corsOrigins: [appOrigin],
    rateRules: config.rateRules,
    validateResponses: false,
  });
  return { outbox, server };
}

async function startPlinth() {
  const { outbox, server } = await startMailingPlinth(100);
  const base = server.url;
  // Sign up, verify through the outbox, sign in in cookie mode, keep the access cookie.
  expectStatus('sign-up', await call(base, 'POST', '/v1/auth/sign-up', { email, password }), 200);
  const token = await tokenFromMail(outbox, email, 'verify_email');
  expectStatus('verify-email', await call(base, 'POST', '/v1/auth/verify-email', { token }), 200);
  const signIn = await call(
    base,
    'POST',
    '/v1/auth/sign-in',
    { email, password, mode: 'cookie' },
    { origin: appOrigin },
  );
  expectStatus('sign-in', signIn, 200);
  const cookie = signIn.headers
    .getSetCookie()
    .find((value) => value.startsWith('__Host-plinth-access='))
    ?.split(';')[0];
  if (!cookie) throw new Error('sign-in set no __Host-plinth-access cookie');
  const me = await call(base, 'GET', '/v1/auth/me', undefined, { cookie });
  expectStatus('GET /v1/auth/me', me, 200);
  if (me.body?.user?.email !== email) throw new Error(`GET /v1/auth/me answered ${JSON.stringify(me.body)}`);
  return { url: `${base}/v1/auth/me`, headers: { cookie }, close: () => server.close() };
}

/**
 * Plinth with the benchmark's own app schema (bench/schema), for the data API, and a user signed
 * up, verified and signed in in token mode (to act as under row-level security).
 */
async function startData() {
  const { outbox, server } = await startMailingPlinth(10, {
    schemaDir: fileURLToPath(new URL('../schema/', import.meta.url)),
  });
  const base = server.url;
  expectStatus('sign-up', await call(base, 'POST', '/v1/auth/sign-up', { email, password }), 200);
  const token = await tokenFromMail(outbox, email, 'verify_email');
  expectStatus('verify-email', await call(base, 'POST', '/v1/auth/verify-email', { token }), 200);
  const signIn = await call(base, 'POST', '/v1/auth/sign-in', { email, password, mode: 'token' });
  expectStatus('sign-in', signIn, 200);
  const accessToken = signIn.body?.session?.accessToken;
  if (typeof accessToken !== 'string')
    throw new Error(`sign-in answered no access token: ${JSON.stringify(signIn.body)}`);
  return {
    url: base,
    headers: { serviceKey: server.serviceKey, publishableKey: server.publishableKey, accessToken },
    close: () => server.close(),
  };
}

/**
 * Plinth for the timing benchmark: the outbox mailer, an app origin, and `config.knownEmail`
 * signed up (its verification mail in the outbox shows the account exists). Nothing else.
 */
async function startTiming() {
  const { outbox, server } = await startMailingPlinth(10);
  const base = server.url;
  expectStatus('sign-up', await call(base, 'POST', '/v1/auth/sign-up', { email: config.knownEmail, password }), 200);
  await tokenFromMail(outbox, config.knownEmail, 'verify_email');
  return { url: base, headers: {}, close: () => server.close() };
}

const starters = { baseline: startBaseline, plinth: startPlinth, data: startData, timing: startTiming };

try {
  const running = await starters[config.kind]();
  answerParent(() => running.close());
  process.send({ type: 'ready', url: running.url, headers: running.headers });
} catch (error) {
  process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) }, () =>
    process.exit(1),
  );
}
