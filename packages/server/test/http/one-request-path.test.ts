import { healthRoute } from '@plinth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineFeatureModule } from '../../src/feature-module.js';
import { featureModules } from '../../src/features.js';
import { defineHandler } from '../../src/http/route-handler.js';
import { type RunningServer, startServer } from '../../src/start-server.js';

// On Node, a route's JSON answer is written straight to the socket; under `app.request()` the
// same status, headers and body become a Response (src/http/answer-headers.ts). This sends every
// kind of answer both ways, over a real socket and in process, and expects the same answer:
// a test that passes through `app.request()` then tests the code production runs.

// The health route, replaced by one that answers with a Response it built: streamed in chunks,
// or whole, as the caller asks. Every other route is the real one.
const builtHealth = defineHandler(healthRoute, async ({ request }) => {
  if (request.headers.get('x-test-answer') === 'streamed') {
    const chunks = ['{"status":"ok",', '"version":"streamed",', '"database":{"reachable":true}}'];
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = chunks.shift();
        if (chunk === undefined) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 5));
        controller.enqueue(new TextEncoder().encode(chunk));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  }
  return Response.json(
    { status: 'degraded', version: 'built', database: { reachable: false } },
    { status: 503, headers: { 'x-built-by': 'handler' } },
  );
});
const modules = [
  ...featureModules.filter((module) => module.name !== 'health'),
  defineFeatureModule({ name: 'health', handlers: [builtHealth] }),
];

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ database: 'memory', logLevel: 'silent', modules, corsOrigins: ['http://app.test'] });
}, 60_000);
afterAll(() => server?.close());

// Headers that legitimately differ: the socket's framing (Node adds a content-length to a whole
// body it writes; checked against the body below), and the per-request id and date.
const transportHeaders = new Set([
  'connection',
  'content-length',
  'date',
  'keep-alive',
  'transfer-encoding',
  'x-request-id',
]);

async function snapshot(response: Response) {
  const headers = Object.fromEntries(
    [...response.headers].filter(([name]) => !transportHeaders.has(name)).sort(([a], [b]) => a.localeCompare(b)),
  );
  // Error envelopes quote the request id, which is per request.
  const text = await response.text();
  const length = response.headers.get('content-length');
  if (length !== null) expect(Number(length)).toBe(Buffer.byteLength(text));
  const body = text.replace(/"requestId":"\w+"/, '"requestId":"…"');
  return { status: response.status, headers, body };
}

const service = () => ({ authorization: `Bearer ${server.serviceKey}` });
const json = { 'content-type': 'application/json' };

const cases: [string, string, () => RequestInit][] = [
  ['a JSON answer (GET, query string)', '/v1/schema', () => ({ headers: service() })],
  [
    'a JSON answer (POST, JSON body)',
    '/v1/sql',
    () => ({
      method: 'POST',
      headers: { ...service(), ...json },
      body: JSON.stringify({ text: 'SELECT 1 AS one', values: [] }),
    }),
  ],
  [
    'a JSON answer with CORS headers',
    '/v1/auth/sign-up',
    () => ({
      method: 'POST',
      headers: { ...json, origin: 'http://app.test' },
      body: JSON.stringify({ email: 'same@example.com', password: 'a long enough passphrase' }),
    }),
  ],
  [
    'an error: input that fails the schema',
    '/v1/query',
    () => ({ method: 'POST', headers: { ...service(), ...json }, body: JSON.stringify({ table: 7 }) }),
  ],
  ['an error: the auth guard refusing', '/v1/schema', () => ({ headers: { authorization: 'Bearer sk_wrong' } })],
  [
    'an error: a body over the cap',
    '/v1/sql',
    () => ({
      method: 'POST',
      headers: { ...service(), ...json },
      body: JSON.stringify({ text: 'x'.repeat(1_100_000) }),
    }),
  ],
  ['a 404: no such route', '/v1/nothing-here', () => ({})],
  ['a 405: a known path, another method', '/v1/schema', () => ({ method: 'DELETE', headers: service() })],
  ['a handler-built Response', '/v1/health', () => ({ headers: { 'x-test-answer': 'built' } })],
  ['a handler-built streamed Response', '/v1/health', () => ({ headers: { 'x-test-answer': 'streamed' } })],
];

describe('one request path: over a real socket and through app.request(), the same answer', () => {
  it.each(cases)('%s', async (_label, path, init) => {
    const overSocket = await snapshot(await fetch(`${server.url}${path}`, init()));
    const inProcess = await snapshot(await server.app.request(path, init()));
    expect(overSocket).toEqual(inProcess);
    // Every answer, whichever way it was built, carries the security headers and a request id.
    expect(overSocket.headers['x-content-type-options']).toBe('nosniff');
    const response = await fetch(`${server.url}${path}`, init());
    expect(response.headers.get('x-request-id')).toMatch(/\S/);
    await response.arrayBuffer();
  });
});
