import { healthRoute } from '@plinth/protocol';
import { defineFeatureModule } from '../feature-module.js';
import { defineHandler } from '../http/route-handler.js';

/**
 * `GET /v1/health`. A 503 (with the same body) when the database does not answer, so a load
 * balancer takes the instance out of rotation. Rate limits that fell back from Redis to memory
 * make the status `degraded` but stay a 200: the instance still serves every route, and draining
 * every instance because Redis failed would turn a lost optimisation into an outage.
 */
export const healthHandler = defineHandler(healthRoute, async ({ services }) => {
  const reachable = await services.database.query('SELECT 1').then(
    () => true,
    () => false,
  );
  const limits = services.rateLimiter.status?.();
  const body = {
    status: reachable && !limits?.degraded ? ('ok' as const) : ('degraded' as const),
    version: services.version,
    database: { reachable },
    ...(limits ? { rateLimits: { store: limits.store, shared: limits.store === 'redis' } } : {}),
  };
  return reachable ? body : Response.json(body, { status: 503 });
});

/** The health feature: `GET /v1/health`, for load balancers and `plinth start`'s readiness. */
export const healthModule = defineFeatureModule({ name: 'health', handlers: [healthHandler] });
