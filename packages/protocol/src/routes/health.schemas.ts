import * as z from 'zod/mini';

/** `GET /v1/health`. */
export const healthSchemas = {
  request: z.object({}),
  response: z.object({
    /** `degraded` when the database does not answer (HTTP 503) or rate limits fell back to memory (HTTP 200). */
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    database: z.object({ reachable: z.boolean() }),
    /**
     * Where rate-limit buckets are kept now: `redis`, shared by every instance, or `memory`, this
     * instance's own (no Redis configured, or Redis not answering). Optional: older servers leave it out.
     */
    rateLimits: z.optional(z.object({ store: z.enum(['redis', 'memory']), shared: z.boolean() })),
  }),
};

/** `GET /v1/health/live`. */
export const livenessSchemas = {
  request: z.object({}),
  response: z.object({ status: z.literal('ok'), version: z.string() }),
};
