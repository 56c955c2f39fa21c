import { readdirSync } from 'node:fs';
import { declaredRoute, type Route, routeTable } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { defineFeatureModule, type RateRuleSet } from '../../src/feature-module.js';
import { defaultRateRules, featureModules } from '../../src/features.js';
import { defineHandler } from '../../src/http/route-handler.js';
import type { ServerServices } from '../../src/server-services.js';

// The join of the feature modules against the protocol's route table, in both directions, and
// every rate rule against the routes. Generated from the table: a route added to it without a
// handler, a handler left behind by a removed route, or a rule for a renamed route fails here.

const tableRoutes = new Set<Route>(routeTable.map((route) => declaredRoute(route)));
const served = featureModules.flatMap((module) =>
  [...module.handlers].map(([route, handler]) => ({ module: module.name, route: declaredRoute(route), handler })),
);
const routeNames = new Set<string>(routeTable.map((route) => route.name));

describe('route ↔ handler', () => {
  it.each(routeTable.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'the route %s has exactly one handler, in one module',
    (_label, route) => {
      const handlers = served.filter((entry) => entry.route === declaredRoute(route));
      expect(handlers.map((entry) => entry.module)).toHaveLength(1);
    },
  );

  it.each(served.map((entry) => [`${entry.module}: ${entry.route.name}`, entry] as const))(
    'the handler %s serves a route of the table',
    (_label, entry) => {
      expect(tableRoutes.has(entry.route)).toBe(true);
    },
  );

  it('a handler for a route outside the table, or a second handler for a route, is refused', () => {
    const stray = declaredRoute(routeTable[0]);
    const twice = defineFeatureModule({ name: 'twice', handlers: [defineHandler(stray, async () => ({}) as never)] });
    expect(() => createApp({ services: stubServices(), modules: [...featureModules, twice] })).toThrow(
      /health is served by both the health and the twice module; keep one/,
    );
    const handler = defineHandler(stray, async () => ({}) as never);
    expect(() => defineFeatureModule({ name: 'dup', handlers: [handler, handler] })).toThrow(/two handlers for health/);
  });
});

describe('rate rule ↔ route', () => {
  const rules = featureModules.flatMap((module) =>
    Object.keys(module.rateRules).map((name) => [`${module.name}: ${name}`, module.name, name] as const),
  );

  it.each(rules)('the rule %s names a route of its own module (or its per-account bucket)', (_label, module, name) => {
    const route = name.replace(/\.perAccount$/, '');
    expect(routeNames).toContain(route);
    const owner = served.find((entry) => entry.route.name === route)?.module;
    expect(owner).toBe(module);
  });

  it('the defaults are every module’s rules and `default`, nothing else', () => {
    const names = new Set(rules.map(([, , name]) => name));
    expect(Object.keys(defaultRateRules).sort()).toEqual([...names, 'default'].sort());
  });

  it('a misspelt rule name does not compile', () => {
    const rule = { capacity: 1, refillPerSecond: 1 };
    // @ts-expect-error 'auth.sigIn' is no route's name: RateRuleName is derived from the route table.
    const misspelt: RateRuleSet = { 'auth.sigIn': rule };
    // @ts-expect-error only `.perAccount` may follow a route's name.
    const wrongBucket: RateRuleSet = { 'auth.signIn.perIp': rule };
    const fine: RateRuleSet = { 'auth.signIn.perAccount': rule, sql: rule, default: rule };
    expect([misspelt, wrongBucket, fine]).toHaveLength(3);
  });
});

describe('one folder per feature', () => {
  it('each module is named after its folder under src/', () => {
    const folders = readdirSync(new URL('../../src/', import.meta.url), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    for (const module of featureModules) expect(folders, module.name).toContain(module.name);
  });
});

function stubServices(): ServerServices {
  return { rateLimiter: {}, rateRules: defaultRateRules, database: {}, logger: {} } as unknown as ServerServices;
}
