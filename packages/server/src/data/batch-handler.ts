import { batchRoute } from '@plinth/protocol';
import { defineHandler } from '../http/route-handler.js';
import { actorFor } from './act-as.js';

/**
 * `POST /v1/batch`: queries and statements in order in one transaction, all or nothing; a
 * refusal names the step (`details.step`).
 *
 * @example
 * ```ts
 * handlers.push(batchHandler);
 * ```
 */
export const batchHandler = defineHandler(batchRoute, async ({ input, request, services, idempotency }) =>
  services.data.batch(
    input.steps,
    await actorFor(request, (token) => services.auth.sessions.authenticate(token)),
    idempotency,
  ),
);
