import { defineRoute } from '../route.js';
import type { healthSchemas } from './health.schemas.js';

/** `GET /v1/health`: whether the server and its database answer. Public, for load balancers. */
export const healthRoute = /* @__PURE__ */ defineRoute<typeof healthSchemas>()({
  name: 'health',
  method: 'GET',
  path: '/v1/health',
  auth: 'none',
});
