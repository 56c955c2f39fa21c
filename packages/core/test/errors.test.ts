import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  AuthError,
  ConflictError,
  createTransport,
  errorFromResponse,
  isPlinthError,
  NotFoundError,
  PermissionError,
  PlinthError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from '@plinth/core';
import { errorEnvelope, healthRoute, type ServerErrorCode, serverErrorCodes } from '@plinth/protocol';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();
const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', retry: false });

// The class each stable code must surface as. Listing it here, not deriving it, is the point:
// moving a code to another status (and so another class) must fail this test.
const expectedClass: Record<ServerErrorCode, typeof PlinthError> = {
  validation_failed: ValidationError,
  invalid_json: ValidationError,
  payload_too_large: ValidationError,
  unauthenticated: AuthError,
  invalid_credentials: AuthError,
  session_expired: AuthError,
  permission_denied: PermissionError,
  insufficient_scope: PermissionError,
  origin_rejected: PermissionError,
  not_found: NotFoundError,
  route_not_found: NotFoundError,
  method_not_allowed: NotFoundError,
  range_not_satisfiable: ValidationError,
  conflict: ConflictError,
  idempotency_key_reused: ValidationError,
  rate_limited: RateLimitError,
  internal_error: ServerError,
  database_error: ServerError,
  not_implemented: ServerError,
  service_unavailable: ServerError,
  timeout: TimeoutError,
};

describe('errors built from a real error envelope', () => {
  for (const [code, { status }] of Object.entries(serverErrorCodes) as [ServerErrorCode, { status: number }][]) {
    it(`${status} ${code} → ${expectedClass[code].name}`, async () => {
      mock.use(
        http.get(`${apiUrl}/v1/health`, () =>
          HttpResponse.json(errorEnvelope(code, `server says ${code}`, 'req_server_1', { field: 'email' }), {
            status,
            headers: code === 'rate_limited' ? { 'retry-after': '7' } : {},
          }),
        ),
      );
      const error = await transport.call(healthRoute).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(expectedClass[code]);
      expect(error).toBeInstanceOf(PlinthError);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        code,
        status,
        message: `server says ${code}`,
        requestId: 'req_server_1',
        details: { field: 'email' },
        isAbort: false,
        name: expectedClass[code].name,
      });
      if (code === 'rate_limited') expect((error as RateLimitError).retryAfter).toBe(7);
    });
  }

  it('an answer without an envelope (a proxy) keeps the status family and says what probably happened', async () => {
    mock.use(http.get(`${apiUrl}/v1/health`, () => new HttpResponse('<html>Bad gateway</html>', { status: 502 })));
    const error = await transport.call(healthRoute).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 'internal_error', status: 502 });
    expect((error as Error).message).toMatch(/proxy or load balancer/);
    // With no envelope, the request id is the one the SDK sent.
    expect((error as PlinthError).requestId).toBe(mock.requests[0]?.headers.get('x-request-id'));
  });

  it('an unknown code keeps the server’s code and takes its class from the status', () => {
    const body = { error: { code: 'brand_new_code', message: 'm', requestId: 'r' } };
    const error = errorFromResponse(409, body, null, 'local');
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('brand_new_code');
  });
});

describe('PlinthError', () => {
  it('toJSON gives the fields a log needs and no cause', () => {
    const error = new ValidationError('email: expected string', {
      code: 'validation_failed',
      status: 400,
      requestId: 'r1',
      details: { field: 'email' },
      cause: new Error('secret inner detail'),
    });
    expect(error.toJSON()).toEqual({
      name: 'ValidationError',
      code: 'validation_failed',
      message: 'email: expected string',
      status: 400,
      requestId: 'r1',
      details: { field: 'email' },
    });
    expect(JSON.stringify(error)).not.toContain('secret inner detail');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('isPlinthError holds across two copies of the package, where instanceof does not', async () => {
    // The built CJS bundle is a second, separate copy of every class: the situation of an app
    // that ends up with two installs of @plinth/core.
    const require = createRequire(import.meta.url);
    const copy = require(fileURLToPath(new URL('../dist/index.cjs', import.meta.url))) as typeof import('@plinth/core');
    const foreign = new copy.NotFoundError('gone', { code: 'not_found' });
    expect(foreign instanceof PlinthError).toBe(false);
    expect(isPlinthError(foreign)).toBe(true);
    expect(copy.isPlinthError(new NotFoundError('gone', { code: 'not_found' }))).toBe(true);
    expect(isPlinthError(new Error('plain'))).toBe(false);
    expect(isPlinthError({ code: 'not_found' })).toBe(false);
    expect(isPlinthError(null)).toBe(false);
  });
});
