import { routeTable } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import {
  accountRateLimitKey,
  rateLimitKey,
  ruleFor as ruleIn,
  withRateRules,
} from '../../src/rate-limit/rate-limit-rules.js';

const ruleFor = (name: string, rules = defaultRateRules) => ruleIn(name, rules);
// Sustained requests per minute a rule allows.
const perMinute = (name: string) => ruleFor(name).refillPerSecond * 60;

describe('defaultRateRules', () => {
  it('names only routes that exist (or per-account variants of them), so no rule is a dead typo', () => {
    const routeNames = new Set(routeTable.map((route) => route.name));
    for (const name of Object.keys(defaultRateRules)) {
      if (name === 'default') continue;
      expect(routeNames, name).toContain(name.replace(/\.perAccount$/, ''));
    }
  });

  it('gives each route docs/security.md lists a rule of its own, far tighter than the default', () => {
    const required = ['auth.signIn', 'auth.signUp', 'auth.signInWithMagicLink', 'auth.verifyMagicLink', 'auth.refresh'];
    for (const name of required) {
      expect(Object.hasOwn(defaultRateRules, name), name).toBe(true);
      expect(ruleFor(name).capacity, name).toBeLessThanOrEqual(60);
      expect(perMinute(name), name).toBeLessThanOrEqual(perMinute('default') / 10);
    }
  });

  it('limits routes that send email hardest', () => {
    for (const name of ['auth.signUp', 'auth.signInWithMagicLink', 'auth.resetPassword']) {
      expect(perMinute(name), name).toBeLessThan(1);
    }
  });
});

describe('ruleFor', () => {
  it('answers a route its own rule and any other route the default', () => {
    expect(ruleFor('auth.signIn')).toEqual({ capacity: 10, refillPerSecond: 10 / 60 });
    expect(ruleFor('sql')).toBe(defaultRateRules.default);
  });

  it('is not fooled by names that live on every object’s prototype', () => {
    expect(ruleFor('constructor')).toBe(defaultRateRules.default);
    expect(ruleFor('__proto__')).toBe(defaultRateRules.default);
    expect(ruleFor('toString')).toBe(defaultRateRules.default);
  });

  it('uses the rules it is given', () => {
    const rules = withRateRules(defaultRateRules, { 'auth.signIn': { capacity: 3, refillPerSecond: 1 } });
    expect(ruleFor('auth.signIn', rules)).toEqual({ capacity: 3, refillPerSecond: 1 });
    expect(ruleFor('auth.signUp', rules)).toEqual(defaultRateRules['auth.signUp']);
  });
});

describe('withRateRules', () => {
  it.each([
    ['a zero capacity', { capacity: 0, refillPerSecond: 1 }],
    ['a fractional capacity', { capacity: 2.5, refillPerSecond: 1 }],
    ['a NaN capacity', { capacity: Number.NaN, refillPerSecond: 1 }],
    ['a zero refill', { capacity: 1, refillPerSecond: 0 }],
    ['a negative refill', { capacity: 1, refillPerSecond: -1 }],
    ['an infinite refill', { capacity: 1, refillPerSecond: Number.POSITIVE_INFINITY }],
  ])('refuses %s, naming the rule', (_, rule) => {
    expect(() => withRateRules(defaultRateRules, { 'auth.signIn': rule })).toThrow(/auth\.signIn/);
  });

  it.each(['auth.sigIn', 'auth.signin', 'signIn', 'auth.signIn.perAcount', 'auth.nothing.perAccount', 'defaults'])(
    'refuses an override named %s: it names no route',
    (name) => {
      expect(() => withRateRules(defaultRateRules, { [name]: { capacity: 1, refillPerSecond: 1 } })).toThrow(
        new RegExp(`Rate rule "${name.replace(/\./g, '\\.')}" names no route`),
      );
    },
  );

  it('takes overrides for any route, its per-account bucket, and default', () => {
    const rule = { capacity: 3, refillPerSecond: 1 };
    const rules = withRateRules(defaultRateRules, { sql: rule, 'auth.signIn.perAccount': rule, default: rule });
    expect([rules.sql, rules['auth.signIn.perAccount'], rules.default]).toEqual([rule, rule, rule]);
  });
});

describe('rateLimitKey', () => {
  it('separates routes and addresses', () => {
    const keys = new Set([
      rateLimitKey('auth.signIn', '203.0.113.7'),
      rateLimitKey('auth.signUp', '203.0.113.7'),
      rateLimitKey('auth.signIn', '203.0.113.8'),
    ]);
    expect(keys.size).toBe(3);
  });

  it('counts an IPv6 client by its /64, so rotating addresses within it does not help', () => {
    expect(rateLimitKey('auth.signIn', '2001:db8:0:1::1')).toBe(
      rateLimitKey('auth.signIn', '2001:db8:0:1:dead:beef::9'),
    );
    expect(rateLimitKey('auth.signIn', '2001:db8:0:1::1')).not.toBe(rateLimitKey('auth.signIn', '2001:db8:0:2::1'));
  });

  it('narrows by `extra` without ever putting it in the key as given, at a fixed length', () => {
    const ada = rateLimitKey('auth.signIn', '203.0.113.7', 'ada@example.com');
    const bob = rateLimitKey('auth.signIn', '203.0.113.7', 'bob@example.com');
    const huge = rateLimitKey('auth.signIn', '203.0.113.7', 'x'.repeat(100_000));
    expect(ada).not.toBe(bob);
    expect(ada).not.toBe(rateLimitKey('auth.signIn', '203.0.113.7'));
    expect(ada).not.toContain('ada');
    expect(huge.length).toBe(ada.length);
  });
});

describe('accountRateLimitKey', () => {
  it('keys by account alone, hashed', () => {
    const ada = accountRateLimitKey('auth.signIn.perAccount', 'ada@example.com');
    expect(ada).toBe(accountRateLimitKey('auth.signIn.perAccount', 'ada@example.com'));
    expect(ada).not.toBe(accountRateLimitKey('auth.signIn.perAccount', 'bob@example.com'));
    expect(ada).not.toContain('ada');
  });
});
