import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { type AccessTokenOptions, createAccessTokens, generateSigningKeys } from '../../src/auth/access-token.js';
import { buildJwtNegativeCorpus } from '../fixtures/jwt-negative-corpus.js';

const nowSeconds = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
// User and session ids are UUIDs, as the database makes them.
const userId = '0b6f2a4e-9c1d-4e7a-8f3b-2d5c6e7f8a90';
const sessionId = '7e1d3c5b-a2f4-4b6d-9e8c-1a3b5c7d9e0f';
const keys = await generateSigningKeys();
const base = {
  privateJwk: keys.privateJwk,
  publicJwk: keys.publicJwk,
  issuer: 'https://api.plinth.test',
  audience: 'https://api.plinth.test/v1',
  ttlSeconds: 900,
} satisfies AccessTokenOptions;

/** An issuer/verifier whose clock reads `clock.now` seconds, movable by the test. */
function withClock(start = nowSeconds, overrides: Partial<AccessTokenOptions> = {}) {
  const clock = { now: start };
  const tokens = createAccessTokens({ ...base, ...overrides, clock: () => new Date(clock.now * 1000) });
  return { clock, tokens };
}

describe('generateSigningKeys', () => {
  it('makes an Ed25519 pair labelled with its RFC 7638 thumbprint, the private part only in privateJwk', async () => {
    expect(keys.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: keys.kid });
    expect(keys.publicJwk).not.toHaveProperty('d');
    expect(keys.privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: keys.kid, x: keys.publicJwk.x });
    expect(typeof keys.privateJwk.d).toBe('string');
    expect(keys.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: keys.publicJwk.x ?? '' }));
  });

  it('makes a different pair each time', async () => {
    const other = await generateSigningKeys();
    expect(other.publicJwk.x).not.toBe(keys.publicJwk.x);
    expect(other.kid).not.toBe(keys.kid);
  });
});

describe('createAccessTokens configuration', () => {
  it.each([299, 3601, 0, -900, 900.5, Number.NaN])('refuses a TTL of %s seconds', (ttlSeconds) => {
    expect(() => createAccessTokens({ ...base, ttlSeconds })).toThrow(RangeError);
    expect(() => createAccessTokens({ ...base, ttlSeconds })).toThrow(/300 to 3600/);
  });

  it.each([300, 3600])('accepts a TTL of %s seconds', async (ttlSeconds) => {
    const { tokens } = withClock(nowSeconds, { ttlSeconds });
    const { token } = await tokens.issue({ userId, sessionId });
    const result = await tokens.verify(token);
    expect(result.ok && result.claims.exp - result.claims.iat).toBe(ttlSeconds);
  });

  it('refuses a private key that does not belong to the public key', async () => {
    const other = await generateSigningKeys();
    expect(() => createAccessTokens({ ...base, privateJwk: { ...other.privateJwk, kid: keys.kid } })).toThrow(
      /not one key pair/,
    );
  });

  it('refuses a public key without a kid', () => {
    const { kid: _kid, ...publicJwk } = keys.publicJwk;
    expect(() => createAccessTokens({ ...base, publicJwk })).toThrow(/kid/);
  });

  it('refuses keys of another type', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const rsaPublic = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa' };
    const rsaPrivate = { ...(await exportJWK(rsa.privateKey)), kid: 'rsa' };
    expect(() => createAccessTokens({ ...base, publicJwk: rsaPublic })).toThrow(/Ed25519/);
    expect(() => createAccessTokens({ ...base, privateJwk: rsaPrivate })).toThrow(/Ed25519/);
  });

  it('refuses a private JWK passed as the public key', () => {
    expect(() => createAccessTokens({ ...base, publicJwk: keys.privateJwk })).toThrow(/public Ed25519/);
  });

  it('refuses an empty issuer or audience', () => {
    expect(() => createAccessTokens({ ...base, issuer: '' })).toThrow(/issuer/);
    expect(() => createAccessTokens({ ...base, audience: '' })).toThrow(/audience/);
  });
});

describe('issue and verify', () => {
  it('issues a token that verifies and carries the claims', async () => {
    const { tokens } = withClock();
    const { token, expiresAt } = await tokens.issue({ userId, sessionId, role: 'admin' });
    const result = await tokens.verify(token);

    expect(result).toEqual({
      ok: true,
      claims: {
        iss: base.issuer,
        aud: base.audience,
        sub: userId,
        sid: sessionId,
        role: 'admin',
        iat: nowSeconds,
        nbf: nowSeconds,
        exp: nowSeconds + base.ttlSeconds,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    expect(expiresAt).toEqual(new Date((nowSeconds + base.ttlSeconds) * 1000));
  });

  it('writes the RFC 9068 header with our kid', async () => {
    const { tokens } = withClock();
    const { token } = await tokens.issue({ userId, sessionId });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.kid });
  });

  it('leaves role out when none is given', async () => {
    const { tokens } = withClock();
    const result = await tokens.verify((await tokens.issue({ userId, sessionId })).token);
    expect(result.ok && 'role' in result.claims).toBe(false);
  });

  it('gives every token its own jti', async () => {
    const { tokens } = withClock();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i += 1) {
      const result = await tokens.verify((await tokens.issue({ userId, sessionId })).token);
      if (result.ok) ids.add(result.claims.jti);
    }
    expect(ids.size).toBe(20);
  });

  it('accepts a token until the second before exp and refuses it from exp on', async () => {
    const { clock, tokens } = withClock();
    const { token } = await tokens.issue({ userId, sessionId });
    clock.now = nowSeconds + base.ttlSeconds - 1;
    expect((await tokens.verify(token)).ok).toBe(true);
    clock.now = nowSeconds + base.ttlSeconds;
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a token one second before its nbf, with no clock tolerance', async () => {
    const { clock, tokens } = withClock();
    const { token } = await tokens.issue({ userId, sessionId });
    clock.now = nowSeconds - 1;
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: 'not_yet_valid' });
  });

  it('refuses a token from a verifier with another issuer or audience', async () => {
    const { tokens } = withClock();
    const { token } = await tokens.issue({ userId, sessionId });
    const otherIssuer = withClock(nowSeconds, { issuer: 'https://elsewhere.test' }).tokens;
    const otherAudience = withClock(nowSeconds, { audience: 'https://elsewhere.test' }).tokens;
    expect(await otherIssuer.verify(token)).toEqual({ ok: false, reason: 'invalid_claims' });
    expect(await otherAudience.verify(token)).toEqual({ ok: false, reason: 'invalid_claims' });
  });

  it('refuses to issue a token without a user or session', async () => {
    const { tokens } = withClock();
    await expect(tokens.issue({ userId: '', sessionId })).rejects.toThrow(/userId/);
    await expect(tokens.issue({ userId, sessionId: '' })).rejects.toThrow(/sessionId/);
  });

  it('refuses to issue a token whose user or session id is not a UUID: it could never verify', async () => {
    const { tokens } = withClock();
    await expect(tokens.issue({ userId: 'user_42', sessionId })).rejects.toThrow(/userId that is a UUID/);
    await expect(tokens.issue({ userId, sessionId: 'session_7' })).rejects.toThrow(/sessionId that is a UUID/);
  });

  it('accepts a token whose lifetime is exactly the TTL and refuses one a second longer', async () => {
    const longer = withClock(nowSeconds, { ttlSeconds: base.ttlSeconds + 1 }).tokens;
    const { tokens } = withClock();
    expect((await tokens.verify((await tokens.issue({ userId, sessionId })).token)).ok).toBe(true);
    const { token } = await longer.issue({ userId, sessionId });
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: 'invalid_claims' });
  });

  it('does not throw on input that is not a string', async () => {
    const { tokens } = withClock();
    expect(await tokens.verify(undefined as unknown as string)).toEqual({ ok: false, reason: 'malformed' });
    expect(await tokens.verify({} as unknown as string)).toEqual({ ok: false, reason: 'malformed' });
  });
});

const { clock: corpusClock, tokens: corpusVerifier } = withClock();
const corpus = await buildJwtNegativeCorpus({ ...keys, ...base, nowSeconds });

describe('JWT negative corpus', () => {
  it('control: the corpus builder makes a token the verifier accepts when left intact', async () => {
    corpusClock.now = nowSeconds;
    expect((await corpusVerifier.verify(corpus.validToken)).ok).toBe(true);
  });

  it.each(corpus.cases.map((c) => [c.name, c] as const))('refuses %s', async (_name, { token, reason }) => {
    corpusClock.now = nowSeconds;
    expect(await corpusVerifier.verify(token)).toEqual({ ok: false, reason });
  });

  it(`accepts 0 of the ${corpus.cases.length} tokens in the negative corpus`, async () => {
    corpusClock.now = nowSeconds;
    const accepted: string[] = [];
    for (const { name, token } of corpus.cases) {
      if ((await corpusVerifier.verify(token)).ok) accepted.push(name);
    }
    expect(corpus.cases.length).toBeGreaterThanOrEqual(50);
    expect(accepted).toEqual([]);
  });
});

describe('deterministic re-issue', () => {
  it('the same subject, issuedAt and jti give the same token byte for byte', async () => {
    const keys = await generateSigningKeys();
    const tokens = createAccessTokens({
      ...keys,
      issuer: 'https://plinth.test',
      audience: 'https://plinth.test',
      ttlSeconds: 900,
    });
    const subject = { userId, sessionId, issuedAt: Math.floor(Date.now() / 1000), jti: 'rt-gen-2' };
    const first = await tokens.issue(subject);
    const second = await tokens.issue(subject);
    expect(second.token).toBe(first.token);
    expect((await tokens.issue({ ...subject, jti: 'other' })).token).not.toBe(first.token);
    expect((await tokens.verify(first.token)).ok).toBe(true);
  });
});
