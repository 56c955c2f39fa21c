import { describe, expect, it } from 'vitest';
import {
  createOpaqueToken,
  hashOpaqueToken,
  opaqueTokenMatchesHash,
  opaqueTokensEqual,
} from '../../src/auth/opaque-token.js';

const randomPart = (token: string, prefix: string) => Buffer.from(token.slice(prefix.length), 'base64url');

describe('createOpaqueToken', () => {
  it('is the prefix followed by 32 random bytes (256 bits) in base64url by default', () => {
    const { token } = createOpaqueToken('rt_');
    expect(token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    expect(randomPart(token, 'rt_')).toHaveLength(32);
  });

  it('takes another size, down to 16 bytes (128 bits)', () => {
    const { token } = createOpaqueToken('ml_', 16);
    expect(token).toMatch(/^ml_[A-Za-z0-9_-]{22}$/);
    expect(randomPart(token, 'ml_')).toHaveLength(16);
    expect(randomPart(createOpaqueToken('', 48).token, '')).toHaveLength(48);
  });

  it.each([15, 0, -1, 16.5])('refuses %s bytes', (bytes) => {
    expect(() => createOpaqueToken('rt_', bytes)).toThrow(RangeError);
  });

  it('refuses a prefix that would need escaping in a URL', () => {
    for (const prefix of ['rt?', 'a b', 'x/', 'é_']) {
      expect(() => createOpaqueToken(prefix)).toThrow(RangeError);
    }
  });

  it('returns the SHA-256 of the token, never the token itself, as the hash to store', () => {
    const { token, hash } = createOpaqueToken('ev_');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(hashOpaqueToken(token));
    expect(hash).not.toContain(token.slice(3));
  });

  it('does not repeat itself over 10 000 tokens', () => {
    const tokens = new Set(Array.from({ length: 10_000 }, () => createOpaqueToken('rt_', 16).token));
    expect(tokens.size).toBe(10_000);
  });

  it('spreads its bits: every bit position takes both values over 200 tokens', () => {
    const bits = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const bytes = randomPart(createOpaqueToken('', 16).token, '');
      bytes.forEach((byte, index) => {
        for (let bit = 0; bit < 8; bit += 1) bits.add(`${index}:${bit}:${(byte >> bit) & 1}`);
      });
    }
    expect(bits.size).toBe(16 * 8 * 2);
  });
});

describe('hashOpaqueToken', () => {
  it('is lower-case hex SHA-256 (FIPS 180-2 "abc" vector)', () => {
    expect(hashOpaqueToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('opaqueTokensEqual', () => {
  it('is true only for the identical token', () => {
    const { token } = createOpaqueToken('rt_');
    expect(opaqueTokensEqual(token, token)).toBe(true);
    expect(opaqueTokensEqual(token, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(opaqueTokensEqual(token, createOpaqueToken('rt_').token)).toBe(false);
  });

  it('compares tokens of different lengths without throwing', () => {
    expect(opaqueTokensEqual('rt_short', 'rt_a-much-longer-token')).toBe(false);
    expect(opaqueTokensEqual('', 'x')).toBe(false);
  });
});

describe('opaqueTokenMatchesHash', () => {
  it('matches a token to its stored hash and to no other', () => {
    const first = createOpaqueToken('pr_');
    const second = createOpaqueToken('pr_');
    expect(opaqueTokenMatchesHash(first.token, first.hash)).toBe(true);
    expect(opaqueTokenMatchesHash(first.token, first.hash.toUpperCase())).toBe(true);
    expect(opaqueTokenMatchesHash(second.token, first.hash)).toBe(false);
  });

  it('refuses a stored hash that is not 64 hex digits, without throwing', () => {
    const { token, hash } = createOpaqueToken('pr_');
    for (const stored of ['', hash.slice(0, 62), `${hash}00`, `${hash.slice(0, 63)}z`, 'not hex at all']) {
      expect(opaqueTokenMatchesHash(token, stored)).toBe(false);
    }
  });
});
