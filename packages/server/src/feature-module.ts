import type { Route, RouteName } from '@plinth/protocol';
import type { Logger } from 'pino';
import type { Database } from './database/database.js';
import type { RouteHandler } from './http/route-handler.js';
import type { RateRule } from './rate-limit/rate-limiter.js';
import type { ServiceSettings } from './server-services.js';
import type { ServerSecrets } from './sessions/server-secrets.js';

/**
 * The name of a rate rule: a route's name (`auth.signIn`), a second bucket of a route keyed by
 * account rather than address (`auth.signIn.perAccount`), or `default` for every route without
 * its own. Derived from the route table: a misspelt name does not compile.
 */
export type RateRuleName = RouteName | `${RouteName}.perAccount` | 'default';

/** Rate rules by name; any rule left out falls back to `default`. */
export type RateRuleSet = Readonly<Partial<Record<RateRuleName, RateRule>>>;

/** What a module's service factory builds from: the database, the logger, settings, secrets. */
export interface ServiceContext {
  readonly database: Database;
  readonly logger: Logger;
  readonly settings: ServiceSettings;
  readonly secrets: ServerSecrets;
}

/**
 * One feature of the server (health, auth, oauth, admin, data; later storage, realtime,
 * webhooks): the handlers of its routes, keyed by the route object each was declared for, its
 * default rate rules, and the factory of the services its handlers use. The app is the join of
 * the modules in `features.ts`.
 */
export interface FeatureModule<Services = never> {
  /** The feature's name: its folder under `src/`. */
  readonly name: string;
  /** Its handlers, keyed by the route object of `@plinth/protocol` each one serves. */
  readonly handlers: ReadonlyMap<Route, RouteHandler>;
  /** Its default rate rules, by route name (laid under the operator's overrides). */
  readonly rateRules: RateRuleSet;
  /** Builds the services its handlers reach as `services.<name>`; absent in a module without. */
  readonly createServices: [Services] extends [never] ? undefined : (context: ServiceContext) => Promise<Services>;
}

/**
 * Declares a feature module from its handlers (each made by `defineHandler` for one route).
 * Throws when two handlers serve the same route.
 *
 * @example
 * ```ts
 * export const healthModule = defineFeatureModule({ name: 'health', handlers: [healthHandler] });
 * ```
 */
export function defineFeatureModule<Services = never>(module: {
  name: string;
  handlers: readonly RouteHandler[];
  rateRules?: RateRuleSet;
  createServices?: (context: ServiceContext) => Services | Promise<Services>;
}): FeatureModule<Services> {
  const handlers = new Map<Route, RouteHandler>();
  for (const handler of module.handlers) {
    if (handlers.has(handler.route)) {
      throw new Error(`Feature module ${module.name} has two handlers for ${handler.route.name}; keep one.`);
    }
    handlers.set(handler.route, handler);
  }
  const create = module.createServices;
  return {
    name: module.name,
    handlers,
    rateRules: module.rateRules ?? {},
    createServices: (create
      ? async (context: ServiceContext) => create(context)
      : undefined) as FeatureModule<Services>['createServices'],
  };
}
