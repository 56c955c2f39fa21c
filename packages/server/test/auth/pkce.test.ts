import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import knownAnswers from '../../../../test/fixtures/known-answers.json' with { type: 'json' };
import { codeChallengeS256, isValidCodeVerifier, verifyPkce } from '../../src/auth/pkce.js';

const [rfc7636] = knownAnswers.pkce_s256;
if (!rfc7636) throw new Error('known-answers.json lost its RFC 7636 vector');
const { code_verifier: rfcVerifier, code_challenge: rfcChallenge } = rfc7636;

const unreserved = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'];
const verifier = fc.string({ unit: fc.constantFrom(...unreserved), minLength: 43, maxLength: 128 });

describe('isValidCodeVerifier', () => {
  it('accepts 43 and 128 characters of the unreserved set', () => {
    expect(isValidCodeVerifier(rfcVerifier)).toBe(true);
    expect(isValidCodeVerifier('a'.repeat(43))).toBe(true);
    expect(isValidCodeVerifier('~'.repeat(128))).toBe(true);
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['a plus sign', `${'a'.repeat(42)}+`],
    ['a slash', `${'a'.repeat(42)}/`],
    ['base64 padding', `${'a'.repeat(42)}=`],
    ['a space', `${'a'.repeat(42)} `],
    ['a trailing newline', `${'a'.repeat(43)}\n`],
    ['a non-ASCII letter', `${'a'.repeat(42)}é`],
    ['empty', ''],
  ])('refuses %s', (_label, candidate) => {
    expect(isValidCodeVerifier(candidate)).toBe(false);
  });

  it('accepts exactly the strings of 43..128 unreserved characters', () => {
    fc.assert(fc.property(verifier, (v) => isValidCodeVerifier(v)));
    fc.assert(
      fc.property(
        verifier,
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !unreserved.includes(c)),
        (v, position, intruder) => {
          const at = position % (v.length + 1);
          return !isValidCodeVerifier(v.slice(0, at) + intruder + v.slice(at));
        },
      ),
    );
  });
});

describe('codeChallengeS256', () => {
  it('matches RFC 7636 appendix B', () => {
    expect(codeChallengeS256(rfcVerifier)).toBe(rfcChallenge);
  });

  it('is unpadded base64url of 32 bytes: 43 characters', () => {
    fc.assert(fc.property(verifier, (v) => /^[A-Za-z0-9_-]{43}$/.test(codeChallengeS256(v))));
  });
});

describe('verifyPkce', () => {
  it('accepts the RFC 7636 appendix B pair with S256', () => {
    expect(verifyPkce({ codeVerifier: rfcVerifier, codeChallenge: rfcChallenge, method: 'S256' })).toBe(true);
  });

  it.each(['plain', 's256', 'S512', '', 'S256 '])('refuses method %j even for a matching pair', (method) => {
    expect(verifyPkce({ codeVerifier: rfcVerifier, codeChallenge: rfcChallenge, method })).toBe(false);
  });

  it('refuses plain even when the challenge is the verifier itself', () => {
    expect(verifyPkce({ codeVerifier: rfcVerifier, codeChallenge: rfcVerifier, method: 'plain' })).toBe(false);
  });

  it('refuses an invalid verifier even if its challenge matches', () => {
    const short = 'a'.repeat(42);
    expect(verifyPkce({ codeVerifier: short, codeChallenge: codeChallengeS256(short), method: 'S256' })).toBe(false);
  });

  it('refuses a wrong challenge, including one of another length, without throwing', () => {
    const check = (codeChallenge: string) => verifyPkce({ codeVerifier: rfcVerifier, codeChallenge, method: 'S256' });
    expect(check(`${rfcChallenge.slice(0, -1)}A`)).toBe(false);
    expect(check(`${rfcChallenge}=`)).toBe(false);
    expect(check(rfcChallenge.slice(0, 42))).toBe(false);
    expect(check('')).toBe(false);
  });

  it('property: a valid verifier always verifies against its own challenge', () => {
    fc.assert(
      fc.property(verifier, (v) =>
        verifyPkce({ codeVerifier: v, codeChallenge: codeChallengeS256(v), method: 'S256' }),
      ),
    );
  });

  it('property: a verifier never verifies against another verifier’s challenge', () => {
    fc.assert(
      fc.property(verifier, verifier, (v, other) => {
        fc.pre(v !== other);
        return !verifyPkce({ codeVerifier: v, codeChallenge: codeChallengeS256(other), method: 'S256' });
      }),
    );
  });
});
