import { createHash } from 'node:crypto';
import { routeTable } from '@plinth/protocol';
import { canonicalEmail } from '../accounts/canonical-email.js';
import type { RateRuleName } from '../feature-module.js';
import { addressRange } from './client-ip.js';
import { assertValidRule, type RateRule } from './rate-limiter.js';

/** Rules by name (`auth.signIn`), with `default` for every route without its own. */
export type RateRules = Readonly<Partial<Record<RateRuleName, RateRule>>> & { readonly default: RateRule };

/**
 * A rule that allows `count` at once, then refills to `count` a minute.
 *
 * @example
 * ```ts
 * const rules = { 'auth.signIn': perMinute(10) };
 * ```
 */
export const perMinute = (count: number): RateRule => ({ capacity: count, refillPerSecond: count / 60 });

/**
 * A rule that allows `count` at once, then refills to `count` every 15 minutes.
 *
 * @example
 * ```ts
 * const rules = { 'auth.signUp': perQuarterHour(5) };
 * ```
 */
export const perQuarterHour = (count: number): RateRule => ({ capacity: count, refillPerSecond: count / (15 * 60) });

/** The rule of every route without one of its own: 600 a minute per address, against floods rather than people. */
export const defaultRouteRule: RateRule = perMinute(600);

const routeNames: ReadonlySet<string> = new Set(routeTable.map((route) => route.name));

const namesARoute = (name: string) =>
  name === 'default' || routeNames.has(name) || (name.endsWith('.perAccount') && routeNames.has(name.slice(0, -11)));

/**
 * `overrides` laid over `defaults`, each rule checked and each name checked against the route
 * table, so a typo fails at start-up instead of being ignored.
 *
 * @example
 * ```ts
 * const rules = withRateRules(defaultRateRules, { 'auth.signIn': { capacity: 30, refillPerSecond: 30 / 60 } });
 * ```
 */
export function withRateRules(defaults: RateRules, overrides: Readonly<Record<string, RateRule>> = {}): RateRules {
  for (const name of Object.keys(overrides)) {
    if (!namesARoute(name)) {
      throw new RangeError(
        `Rate rule "${name}" names no route. Use a route's name as \`plinth routes\` prints it (e.g. auth.signIn), <route>.perAccount, or default.`,
      );
    }
  }
  const rules: RateRules = { ...defaults, ...overrides };
  for (const [name, rule] of Object.entries(rules)) assertValidRule(name, rule as RateRule);
  return rules;
}

/**
 * The rule for a route: its own, else `default`.
 *
 * @example
 * ```ts
 * ruleFor('auth.signIn', rules); // { capacity: 10, refillPerSecond: 1 / 6 }
 * ruleFor('sql', rules); // the default rule
 * ```
 */
export function ruleFor(ruleName: string, rules: RateRules): RateRule {
  return Object.hasOwn(rules, ruleName) ? (rules[ruleName as RateRuleName] ?? rules.default) : rules.default;
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
