import { defineRoute, type RouteWithSchemas, withSchemas } from '@plinth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createApp } from '../src/app.js';
import type { Database } from '../src/database/database.js';
import { openDatabase } from '../src/database/open-database.js';
import { defineFeatureModule } from '../src/feature-module.js';
import { defineHandler } from '../src/http/route-handler.js';
import { createLogger } from '../src/logger.js';
import { createServerServices } from '../src/server-services.js';

const echoSchemas = {
  request: z.object({
    email: z.string().check(z.email()),
    age: z.number().check(z.int(), z.minimum(0)),
    tags: z.optional(z.array(z.string())),
  }),
  response: z.object({ email: z.string(), age: z.number() }),
};
const echoRoute = withSchemas(
  defineRoute<typeof echoSchemas>({ name: 'test.echo', method: 'POST', path: '/v1/test/echo', auth: 'none' }),
  echoSchemas,
);
const adminSchemas = {
  request: z.object({ id: z.string() }),
  response: z.object({ id: z.string(), caller: z.string() }),
};
const adminRoute = withSchemas(
  defineRoute<typeof adminSchemas>({ name: 'test.admin', method: 'GET', path: '/v1/test/admin/:id', auth: 'service' }),
  adminSchemas,
);
const brokenSchemas = { request: z.object({}), response: z.object({ ok: z.boolean() }) };
const brokenRoute = withSchemas(
  defineRoute<typeof brokenSchemas>({ name: 'test.broken', method: 'GET', path: '/v1/test/broken', auth: 'none' }),
  brokenSchemas,
);
const throwsSchemas = { request: z.object({}), response: z.object({}) };
const throwsRoute = withSchemas(
  defineRoute<typeof throwsSchemas>({ name: 'test.throws', method: 'GET', path: '/v1/test/throws', auth: 'none' }),
  throwsSchemas,
);

let database: Database;
let app: ReturnType<typeof createApp>;
let serviceKey: string;
let publishableKey: string;

beforeAll(async () => {
  database = await openDatabase('memory');
  const { services, issuedKeys } = await createServerServices({
    database,
    logger: createLogger('silent'),
    version: 'test',
  });
  serviceKey = issuedKeys.serviceKey as string;
  publishableKey = issuedKeys.publishableKey as string;
  app = createApp({
    services,
    routes: [echoRoute, adminRoute, brokenRoute, throwsRoute] as RouteWithSchemas[],
    maxBodyBytes: 1024,
    validateResponses: true,
    modules: [
      defineFeatureModule({
        name: 'test',
        handlers: [
          defineHandler(echoRoute, async ({ input }) => ({ email: input.email, age: input.age })),
          defineHandler(adminRoute, async ({ input, caller }) => ({ id: input.id, caller: caller.kind })),
          defineHandler(brokenRoute, async () => ({ ok: 'yes' }) as never),
          defineHandler(throwsRoute, async () => {
            throw new Error('database password is hunter2');
          }),
        ],
      }),
    ],
  });
}, 30_000);
afterAll(() => database.close());

const post = (body: BodyInit | null, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  app.request('/v1/test/echo', { method: 'POST', body, headers });

describe('input validation: every bad input is a 4xx envelope naming the field, never a 500', () => {
  const cases: [string, BodyInit | null, Record<string, string> | undefined, number, string, string][] = [
    ['a missing field', JSON.stringify({ age: 3 }), undefined, 400, 'validation_failed', 'email'],
    ['a wrong type', JSON.stringify({ email: 'a@b.co', age: 'three' }), undefined, 400, 'validation_failed', 'age'],
    [
      'a wrong nested type',
      JSON.stringify({ email: 'a@b.co', age: 1, tags: [1] }),
      undefined,
      400,
      'validation_failed',
      'tags.0',
    ],
    ['a fractional integer', JSON.stringify({ email: 'a@b.co', age: 1.5 }), undefined, 400, 'validation_failed', 'age'],
    ['invalid JSON', '{"email": ', undefined, 400, 'invalid_json', '(body)'],
    ['a JSON array', '[1,2]', undefined, 400, 'validation_failed', '(root)'],
    ['JSON null', 'null', undefined, 400, 'validation_failed', '(root)'],
    [
      'a body over the cap',
      JSON.stringify({ email: 'a@b.co', age: 1, tags: ['x'.repeat(2000)] }),
      undefined,
      413,
      'payload_too_large',
      '(body)',
    ],
    [
      'a body that is not JSON',
      'email=a@b.co',
      { 'content-type': 'application/x-www-form-urlencoded' },
      400,
      'validation_failed',
      'content-type',
    ],
    ['an empty body', null, undefined, 400, 'validation_failed', 'email'],
    [
      'an email with a zero-width space',
      JSON.stringify({ email: 'a\u200b@b.co', age: 1 }),
      undefined,
      400,
      'validation_failed',
      'email',
    ],
    [
      'an email with a right-to-left override',
      JSON.stringify({ email: 'a\u202e@b.co', age: 1 }),
      undefined,
      400,
      'validation_failed',
      'email',
    ],
    [
      'an email with a lone surrogate',
      '{"email":"\\ud800@b.co","age":1}',
      undefined,
      400,
      'validation_failed',
      'email',
    ],
    [
      'an email with a NUL',
      JSON.stringify({ email: 'a\u0000@b.co', age: 1 }),
      undefined,
      400,
      'validation_failed',
      'email',
    ],
  ];
  for (const [what, body, headers, status, code, field] of cases) {
    it(`${what} → ${status} ${code} naming ${field}`, async () => {
      const response = await post(body, headers);
      expect(response.status).toBe(status);
      const json = (await response.json()) as {
        error: { code: string; details?: { field?: string }; requestId: string };
      };
      expect(json.error.code).toBe(code);
      expect(json.error.details?.field).toBe(field);
      expect(json.error.requestId).toMatch(/\w{8,}/);
    });
  }

  it('a body over the cap without a content-length (chunked) is still refused', async () => {
    const chunk = new TextEncoder().encode(
      `{"email":"a@b.co","age":1,"tags":["${'x'.repeat(600)}","${'y'.repeat(600)}"]}`,
    );
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(chunk.slice(0, 700));
        controller.enqueue(chunk.slice(700));
        controller.close();
      },
    });
    const response = await app.request('/v1/test/echo', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('valid input reaches the handler, typed and parsed', async () => {
    const response = await post(JSON.stringify({ email: 'ada@example.com', age: 36, extra: 'ignored' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ email: 'ada@example.com', age: 36 });
  });
});

describe('the service-key guard, chosen by the route declaration', () => {
  const admin = (headers: Record<string, string>) => app.request('/v1/test/admin/42', { headers });

  it('lets the service key through, with path parameters in the input', async () => {
    const response = await admin({ authorization: `Bearer ${serviceKey}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '42', caller: 'service' });
  });

  it('refuses no key, a wrong key, a publishable key, and a non-bearer scheme with 401', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer sk_wrong' },
      { authorization: `Bearer ${publishableKey}` },
      { authorization: `Basic ${serviceKey}` },
      { authorization: `Bearer ${serviceKey.slice(0, -1)}` },
    ]) {
      const response = await admin(headers);
      expect(response.status).toBe(401);
      const json = (await response.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe('unauthenticated');
      expect(json.error.message).toContain('needs the service key');
    }
  });
});

describe('failures inside the server', () => {
  it('an unexpected error is a 500 envelope with the request id and no internals', async () => {
    const response = await app.request('/v1/test/throws', { headers: { 'x-request-id': 'req_throws_1' } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal_error', message: expect.stringContaining('req_throws_1'), requestId: 'req_throws_1' },
    });
    expect(text).not.toContain('hunter2');
  });

  it('a handler answering outside its response schema is caught when validation is on', async () => {
    const response = await app.request('/v1/test/broken');
    expect(response.status).toBe(500);
  });
});
