import * as z from 'zod/mini';

/** `GET /v1/health`. */
export const healthSchemas = {
  request: z.object({}),
  response: z.object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    database: z.object({ reachable: z.boolean() }),
  }),
};
