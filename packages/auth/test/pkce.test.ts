import { codeChallenge, randomToken } from '@plinth/auth';
import { ConfigurationError } from '@plinth/core';
import { exchangeCodeSchemas } from '@plinth/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import knownAnswers from '../../../test/fixtures/known-answers.json' with { type: 'json' };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('codeChallenge (PKCE S256)', () => {
  it('matches the RFC 7636 appendix B known answer', async () => {
    const [vector] = knownAnswers.pkce_s256;
    if (!vector) throw new Error('missing RFC 7636 vector');
    await expect(codeChallenge(vector.code_verifier)).resolves.toBe(vector.code_challenge);
  });

  it('is base64url without padding: 43 characters for any verifier', async () => {
    const challenge = await codeChallenge('a'.repeat(128));
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses with a ConfigurationError that says why where WebCrypto has no subtle (plain-http pages)', async () => {
    vi.stubGlobal('crypto', { getRandomValues: crypto.getRandomValues.bind(crypto) });
    const error = await codeChallenge('x'.repeat(43)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/https/);
  });
});

describe('randomToken (verifier and state)', () => {
  it('is 43 base64url characters (256 bits), a verifier the protocol accepts', () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const request = { code: 'c', codeVerifier: token };
    expect(exchangeCodeSchemas.request.safeParse(request).success).toBe(true);
  });

  it('comes from the CSPRNG: fresh on every call', () => {
    const spy = vi.spyOn(crypto, 'getRandomValues');
    const tokens = new Set(Array.from({ length: 100 }, randomToken));
    expect(tokens.size).toBe(100);
    expect(spy).toHaveBeenCalledTimes(100);
  });
});
