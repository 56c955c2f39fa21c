import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEmail } from '../../src/accounts/canonical-email.js';
import { accountRateLimitKey } from '../../src/rate-limit/rate-limit-rules.js';

describe('canonicalEmail', () => {
  it('trims and lower-cases', () => {
    expect(canonicalEmail(' Ada@Example.COM\t')).toBe('ada@example.com');
  });

  it('composes a decomposed accent (NFC) but keeps compatibility look-alikes apart (not NFKC)', () => {
    expect(canonicalEmail('Zoe\u0301@example.com')).toBe('zo\u00e9@example.com');
    expect(canonicalEmail('\uff41da@example.com')).not.toBe(canonicalEmail('ada@example.com'));
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (email) => {
        const once = canonicalEmail(email);
        expect(canonicalEmail(once)).toBe(once);
      }),
    );
  });
});

describe('accountRateLimitKey', () => {
  it('gives every spelling of one email the same bucket', () => {
    const key = accountRateLimitKey('auth.signIn.perAccount', 'ada@example.com');
    for (const spelling of ['Ada@Example.com', 'ADA@EXAMPLE.COM', ' ada@example.com ']) {
      expect(accountRateLimitKey('auth.signIn.perAccount', spelling)).toBe(key);
    }
    expect(accountRateLimitKey('auth.signIn.perAccount', 'bob@example.com')).not.toBe(key);
  });
});
