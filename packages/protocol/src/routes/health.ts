import * as z from 'zod/mini';
import { defineRoute } from '../route.js';

/** `GET /v1/health`: whether the server and its database answer. Public, for load balancers. */
export const healthRoute = /* @__PURE__ */ defineRoute({
  name: 'health',
  method: 'GET',
  path: '/v1/health',
  auth: 'none',
  request: z.object({}),
  response: z.object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    database: z.object({ reachable: z.boolean() }),
  }),
});
