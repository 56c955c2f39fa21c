import { randomUUID } from 'node:crypto';
import { importJWK, type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { loadServerSecrets } from '../../src/sessions/server-secrets.js';
import { jsonClient, waitForMailedToken } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// Tokens signed with the server's own key, as a leaked key or a bug in issuing would produce
// them: whatever their claims, GET /v1/auth/me answers 401, never 500 and never 200.
const outbox = createOutboxMailer(createLogger('silent'));
const server = useTestServer({ mailer: outbox, corsOrigins: ['http://localhost:5173'] });
const call = jsonClient(() => server().url);

let sign: (claims: JWTPayload) => Promise<string>;
let real: { sub: string; sid: string };

beforeAll(async () => {
  const email = 'forged.claims@example.com';
  const password = 'correct horse battery staple';
  const signUp = await call('POST', '/v1/auth/sign-up', { email, password });
  expect(signUp.status, JSON.stringify(signUp.body)).toBe(200);
  const token = await waitForMailedToken(outbox, email, 'verify_email');
  expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
  const signIn = await call('POST', '/v1/auth/sign-in', { email, password });
  real = { sub: signIn.body?.user.id, sid: JSON.parse(atob(signIn.body?.session.accessToken.split('.')[1])).sid };

  const { signingKeys } = await loadServerSecrets(server().services.database);
  const key = await importJWK(signingKeys.privateJwk, 'EdDSA');
  const kid = signingKeys.publicJwk.kid as string;
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(key);
});

const claims = (overrides: JWTPayload = {}): JWTPayload => {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'plinth', aud: 'plinth', ...real, iat: now, nbf: now, exp: now + 900, jti: randomUUID(), ...overrides };
};

describe('GET /v1/auth/me with a token signed by the server key', () => {
  it('control: the same claims, well formed, are accepted', async () => {
    const me = await call('GET', '/v1/auth/me', undefined, { authorization: `Bearer ${await sign(claims())}` });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
  });

  const tenYears = 10 * 365 * 24 * 3600;
  it.each([
    ['a ten-year lifetime', () => ({ exp: Math.floor(Date.now() / 1000) + tenYears })],
    ['a lifetime one second over the TTL', () => ({ exp: Math.floor(Date.now() / 1000) + 901 })],
    ['a sub that is not a UUID', () => ({ sub: 'admin' })],
    ['a sid that is not a UUID', () => ({ sid: "x' OR '1'='1" })],
    ['a sub that is a number', () => ({ sub: 42 })],
    ['a sid that is an object', () => ({ sid: { id: 1 } })],
    ['an iat that is a string', () => ({ iat: String(Math.floor(Date.now() / 1000)) })],
    ['no iat', () => ({ iat: undefined })],
  ])('%s → 401', async (_what, overrides) => {
    const token = await sign(claims(overrides() as JWTPayload));
    const me = await call('GET', '/v1/auth/me', undefined, { authorization: `Bearer ${token}` });
    expect(me.status, JSON.stringify(me.body)).toBe(401);
    expect(me.body?.error.code).toMatch(/^(unauthenticated|session_expired)$/);
  });
});
