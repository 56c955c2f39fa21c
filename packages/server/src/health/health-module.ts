import { healthRoute, livenessRoute } from '@plinth/protocol';
import { defineFeatureModule } from '../feature-module.js';
import { defineHandler } from '../http/route-handler.js';

/** How long readiness waits for the database's `SELECT 1`, in ms. */
export const readinessCheckMs = 1_000;

/**
 * `GET /v1/health` (readiness). A 503 (with the same body) when the database does not answer, so a load
 * balancer takes the instance out of rotation. Rate limits that fell back from Redis to memory
 * make the status `degraded` but stay a 200: the instance still serves every route, and draining
 * every instance because Redis failed would turn a lost optimisation into an outage.
 */
export const healthHandler = defineHandler(healthRoute, async ({ services }) => {
  // Bounded: a database that does not answer within a second is down, as far as a load
  // balancer's probe is concerned (its own timeout is often a few seconds).
  let timer: NodeJS.Timeout | undefined;
  const reachable = await Promise.race([
    services.database.query('SELECT 1').then(
      () => true,
      () => false,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), readinessCheckMs);
    }),
  ]).finally(() => clearTimeout(timer));
  const limits = services.rateLimiter.status?.();
  const body = {
    status: reachable && !limits?.degraded ? ('ok' as const) : ('degraded' as const),
    version: services.version,
    database: { reachable },
    ...(limits ? { rateLimits: { store: limits.store, shared: limits.store === 'redis' } } : {}),
  };
  return reachable ? body : Response.json(body, { status: 503 });
});

/**
 * `GET /v1/health/live` (liveness): the process answers; no dependency is asked, so a database or
 * Redis outage never makes an orchestrator restart healthy instances.
 */
export const livenessHandler = defineHandler(livenessRoute, async ({ services }) => ({
  status: 'ok' as const,
  version: services.version,
}));

/** The health feature: readiness (`GET /v1/health`) and liveness (`GET /v1/health/live`). */
export const healthModule = defineFeatureModule({ name: 'health', handlers: [healthHandler, livenessHandler] });
