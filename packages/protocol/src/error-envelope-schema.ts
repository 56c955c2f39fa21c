import * as z from 'zod/mini';

/**
 * The schema of the body of every error answer, for the server and contract tests. Clients use
 * `readErrorEnvelope`, which checks the same without zod.
 */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
    requestId: z.string(),
  }),
});
