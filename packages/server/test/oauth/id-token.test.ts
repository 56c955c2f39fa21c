import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, type JWTVerifyGetKey, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyIdToken } from '../../src/oauth/id-token.js';
import { ProviderError } from '../../src/oauth/provider-http.js';

// ID token checks (OpenID Connect Core §3.1.3.7) against tokens made here, including the
// forgeries a real provider never sends.

const issuer = 'https://idp.example.com';
const clientId = 'plinth-client';
const nonce = 'n-0S6_WzA2Mj';

const keyPairs = {
  ES256: await generateKeyPair('ES256', { extractable: true }),
  RS256: await generateKeyPair('RS256', { extractable: true }),
  EdDSA: await generateKeyPair('Ed25519', { extractable: true }),
};
const other = await generateKeyPair('ES256', { extractable: true });
// In the provider's JWKS, but PS256 is not on the allow-list.
const pss = await generateKeyPair('PS256', { extractable: true });
const jwks = createLocalJWKSet({
  keys: await Promise.all(
    Object.entries({ ...keyPairs, PS256: pss }).map(async ([alg, pair]) => ({
      ...(await exportJWK(pair.publicKey)),
      kid: alg,
      alg,
    })),
  ),
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}): JWTPayload => ({
  iss: issuer,
  aud: clientId,
  sub: 'user-123',
  nonce,
  iat: now(),
  exp: now() + 300,
  email: 'ada@example.com',
  email_verified: true,
  ...overrides,
});

async function sign(payload: JWTPayload, alg: keyof typeof keyPairs = 'ES256', key = keyPairs[alg].privateKey) {
  return new SignJWT(payload).setProtectedHeader({ alg, kid: alg }).sign(key);
}

const verify = (token: string, keys: JWTVerifyGetKey = jwks) =>
  verifyIdToken(token, { issuers: [issuer], clientId, nonce, keys });

describe('verifyIdToken', () => {
  it.each(['ES256', 'RS256', 'EdDSA'] as const)('accepts a good %s token', async (alg) => {
    expect(await verify(await sign(claims(), alg))).toEqual({
      subject: 'user-123',
      email: 'ada@example.com',
      emailVerified: true,
    });
  });

  it('counts the email as verified only for a JSON true', async () => {
    expect((await verify(await sign(claims({ email_verified: 'true' })))).emailVerified).toBe(false);
    expect((await verify(await sign(claims({ email_verified: undefined })))).emailVerified).toBe(false);
  });

  it('accepts several audiences only when azp is this client', async () => {
    expect((await verify(await sign(claims({ aud: [clientId, 'other'], azp: clientId })))).subject).toBe('user-123');
    await expect(verify(await sign(claims({ aud: [clientId, 'other'] })))).rejects.toThrow(ProviderError);
    await expect(verify(await sign(claims({ azp: 'other' })))).rejects.toThrow(/azp/);
  });

  const forgeries: [string, () => Promise<string>][] = [
    ['another nonce (a token from another sign-in)', () => sign(claims({ nonce: 'someone-elses' }))],
    ['no nonce', () => sign(claims({ nonce: undefined }))],
    ['another issuer', () => sign(claims({ iss: 'https://evil.example' }))],
    ['another audience', () => sign(claims({ aud: 'another-client' }))],
    ['expired', () => sign(claims({ iat: now() - 7200, exp: now() - 3600 }))],
    ['no sub', () => sign(claims({ sub: undefined }))],
    ['signed by a key not in the JWKS', () => sign(claims(), 'ES256', other.privateKey)],
    [
      'alg none',
      async () =>
        `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`,
    ],
    [
      'PS256 (asymmetric, but not allow-listed)',
      () => new SignJWT(claims()).setProtectedHeader({ alg: 'PS256', kid: 'PS256' }).sign(pss.privateKey),
    ],
    ['a signature cut off', async () => (await sign(claims())).replace(/\.[^.]+$/, '.')],
  ];
  it.each(forgeries)('refuses %s', async (_what, make) => {
    await expect(verify(await make())).rejects.toThrow(ProviderError);
  });

  it('refuses HS256 even when the key it names would verify it (no symmetric algorithms)', async () => {
    // An HS256 token "signed" with the client secret, and keys that would hand that secret out.
    const secret = new TextEncoder().encode('the-client-secret-the-client-secret');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    await expect(verify(token, async () => secret)).rejects.toThrow(/ID token/);
  });
});
