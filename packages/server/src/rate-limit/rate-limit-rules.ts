import { createHash } from 'node:crypto';
import { canonicalEmail } from '../accounts/canonical-email.js';
import { addressRange } from './client-ip.js';
import { assertValidRule, type RateRule } from './rate-limiter.js';

/** Rules by route name (`auth.signIn`), plus `default` for every route without its own. */
export type RateRules = Readonly<Record<string, RateRule>> & { readonly default: RateRule };

const perMinute = (count: number): RateRule => ({ capacity: count, refillPerSecond: count / 60 });
const perQuarterHour = (count: number): RateRule => ({ capacity: count, refillPerSecond: count / (15 * 60) });

/**
 * The default limits, per client IP (an IPv6 client's whole /64) unless the name says otherwise.
 * Each allows its capacity as a burst, then refills to that many per period.
 *
 * - Routes that send email (sign-up, magic link, password reset) are the tightest, 5 per 15
 *   minutes: each request costs us a message and can be aimed at someone else's inbox.
 * - Routes that check a password or a one-time secret allow 10 a minute: plenty for a person
 *   mistyping, useless for guessing. They also bound the Argon2 work one address can cause.
 * - `auth.signIn.perAccount` is keyed by the email, not the IP (see {@link accountRateLimitKey}),
 *   so guessing one account's password from many addresses is limited too. It is looser than
 *   the per-IP rule because anyone can spend it to lock a victim out for a while.
 * - `auth.refresh` allows 60 a minute: clients refresh on a timer and on every tab wake-up.
 * - Everything else shares `default`, 600 a minute, against floods rather than people.
 *
 * Addresses shared by many people (offices, carrier-grade NAT) hit these sooner; raise them with
 * the middleware's `rules` option.
 */
export const defaultRateRules: RateRules = {
  'auth.signIn': perMinute(10),
  'auth.signIn.perAccount': perQuarterHour(20),
  'auth.signUp': perQuarterHour(5),
  'auth.signInWithMagicLink': perQuarterHour(5),
  'auth.verifyMagicLink': perMinute(10),
  'auth.refresh': perMinute(60),
  'auth.resetPassword': perQuarterHour(5),
  'auth.confirmPasswordReset': perMinute(10),
  'auth.updatePassword': perMinute(10),
  'auth.verifyEmail': perMinute(10),
  'auth.exchangeCode': perMinute(20),
  // Each authorize stores a flow; each callback calls the provider. A person needs a few.
  'auth.signInWithOAuth': perMinute(30),
  'auth.oauthCallback': perMinute(30),
  default: perMinute(600),
};

/**
 * The defaults with `overrides` laid over them, each rule checked, so a typo fails at start-up.
 *
 * @example
 * ```ts
 * const rules = withRateRules({ 'auth.signIn': { capacity: 30, refillPerSecond: 30 / 60 } });
 * ```
 */
export function withRateRules(overrides: Readonly<Record<string, RateRule>> = {}): RateRules {
  const rules: RateRules = { ...defaultRateRules, ...overrides };
  for (const [name, rule] of Object.entries(rules)) assertValidRule(name, rule);
  return rules;
}

/**
 * The rule for a route: its own, else `default`.
 *
 * @example
 * ```ts
 * ruleFor('auth.signIn'); // { capacity: 10, refillPerSecond: 1 / 6 }
 * ruleFor('db.select'); // the default rule
 * ```
 */
export function ruleFor(routeName: string, rules: RateRules = defaultRateRules): RateRule {
  return Object.hasOwn(rules, routeName) ? (rules[routeName] ?? rules.default) : rules.default;
}

// Caller-chosen values (emails) are hashed into keys: the key length stays fixed whatever the
// caller sends, and Redis never holds an address in the clear.
const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * The bucket key for one client on one route: the route name and the client's address range
 * ({@link addressRange}: an IPv6 client counts by its /64). `extra` narrows it further within
 * that address, e.g. an email; it is hashed, never stored as given.
 *
 * @example
 * ```ts
 * rateLimitKey('auth.signIn', '203.0.113.7'); // 'auth.signIn|ip:203.0.113.7'
 * rateLimitKey('auth.signIn', '203.0.113.7', 'ada@example.com'); // 'auth.signIn|ip:203.0.113.7|x:…'
 * ```
 */
export function rateLimitKey(routeName: string, ip: string, extra?: string): string {
  const key = `${routeName}|ip:${addressRange(ip)}`;
  return extra === undefined ? key : `${key}|x:${digest(extra)}`;
}

/**
 * The bucket key for one account on one route, whatever address the requests come from: what
 * stops a password being guessed from a thousand addresses at ten tries each. Use it with
 * `auth.signIn.perAccount`, for every email tried, whether or not the account exists (a limit
 * only for real accounts would reveal which exist). The email is keyed in its canonical form
 * (`canonicalEmail`), as accounts are, so changing its letter case does not buy fresh tries.
 *
 * @example
 * ```ts
 * const decision = await limiter.consume(
 *   accountRateLimitKey('auth.signIn.perAccount', 'Ada@Example.com'), // the bucket of ada@example.com
 *   ruleFor('auth.signIn.perAccount', rules),
 * );
 * ```
 */
export function accountRateLimitKey(ruleName: string, email: string): string {
  return `${ruleName}|account:${digest(canonicalEmail(email))}`;
}
