import {
  clientErrorCodes,
  describeIssue,
  errorEnvelope,
  errorEnvelopeSchema,
  errorKindForStatus,
  readErrorEnvelope,
  serverErrorCodes,
  signUpSchemas,
} from '@plinth/protocol';
import { describe, expect, it } from 'vitest';

describe('error codes', () => {
  it('are snake_case, and no code is both a server and a client code', () => {
    const server = Object.keys(serverErrorCodes);
    const client = Object.keys(clientErrorCodes);
    for (const code of [...server, ...client]) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(server.filter((code) => client.includes(code))).toEqual([]);
  });

  it('every server code has a 4xx or 5xx status and a meaning', () => {
    for (const { status, meaning } of Object.values(serverErrorCodes)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
      expect(meaning.length).toBeGreaterThan(10);
    }
  });

  it('maps statuses to families', () => {
    expect([400, 401, 403, 404, 405, 408, 409, 413, 422, 429, 500, 502, 503, 504, 302].map(errorKindForStatus)).toEqual(
      [
        'validation',
        'auth',
        'permission',
        'not_found',
        'not_found',
        'timeout',
        'conflict',
        'validation',
        'validation',
        'rate_limit',
        'server',
        'server',
        'server',
        'timeout',
        'unknown',
      ],
    );
  });
});

describe('the error envelope', () => {
  it('errorEnvelope builds what the schema accepts', () => {
    const withDetails = errorEnvelope('conflict', 'duplicate email', 'req_1', { constraint: 'users_email_key' });
    expect(errorEnvelopeSchema.safeParse(withDetails).success).toBe(true);
    expect(errorEnvelope('not_found', 'no such post', 'req_2')).toEqual({
      error: { code: 'not_found', message: 'no such post', requestId: 'req_2' },
    });
  });

  it('readErrorEnvelope accepts and refuses exactly what the schema does', () => {
    const corpus: unknown[] = [
      { error: { code: 'x', message: 'm', requestId: 'r' } },
      { error: { code: 'x', message: 'm', requestId: 'r', details: { field: 'a' } } },
      { error: { code: 'x', message: 'm', requestId: 'r', details: {} }, extra: 1 },
      { error: { code: 'x', message: 'm' } },
      { error: { code: 1, message: 'm', requestId: 'r' } },
      { error: { code: 'x', message: null, requestId: 'r' } },
      { error: { code: 'x', message: 'm', requestId: 'r', details: 'text' } },
      { error: { code: 'x', message: 'm', requestId: 'r', details: ['a'] } },
      { error: { code: 'x', message: 'm', requestId: 'r', details: null } },
      { error: 'boom' },
      { error: null },
      { error: [] },
      { message: 'Internal Server Error' },
      [],
      'text',
      42,
      null,
      undefined,
    ];
    for (const body of corpus) {
      const viaSchema = errorEnvelopeSchema.safeParse(body);
      const viaGuard = readErrorEnvelope(body);
      expect({ body, accepted: viaGuard !== undefined }).toEqual({ body, accepted: viaSchema.success });
      if (viaSchema.success) expect(viaGuard).toEqual(viaSchema.data.error);
    }
  });
});

describe('describeIssue', () => {
  it('names the field and what is wrong, from real zod issues', () => {
    const result = signUpSchemas.request.safeParse({ email: 'not-an-email', password: 'short' });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map(describeIssue);
    expect(messages).toEqual(['email: not a valid email', 'password: must be at least 8']);
  });

  it('handles missing fields, enum values, nested paths and the root', () => {
    expect(describeIssue({ path: [], code: 'invalid_type', expected: 'object' })).toBe('(root): expected object');
    expect(describeIssue({ path: ['a', 0, 'b'], code: 'invalid_value', values: ['x', 'y'] })).toBe(
      'a.0.b: must be one of "x", "y"',
    );
    expect(describeIssue({ path: ['q'], code: 'custom', message: 'Invalid input' })).toBe('q: invalid value');
    expect(describeIssue({ path: [{ key: 'k' }], code: 'too_big', maximum: 3 })).toBe('k: must be at most 3');
  });
});
