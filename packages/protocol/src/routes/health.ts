import { defineRoute } from '../route.js';
import type { healthSchemas, livenessSchemas } from './health.schemas.js';

/** `GET /v1/health`: whether the server and its database answer. Public, for load balancers. */
export const healthRoute = /* @__PURE__ */ defineRoute<typeof healthSchemas>()({
  name: 'health',
  method: 'GET',
  path: '/v1/health',
  auth: 'none',
});

/**
 * `GET /v1/health/live`: whether the process answers at all, without asking any dependency.
 * Public. For liveness probes: restart the instance only when this fails; take it out of rotation
 * when `GET /v1/health` (readiness) does.
 */
export const livenessRoute = /* @__PURE__ */ defineRoute<typeof livenessSchemas>()({
  name: 'health.live',
  method: 'GET',
  path: '/v1/health/live',
  auth: 'none',
});
