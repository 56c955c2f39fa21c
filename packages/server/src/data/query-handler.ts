import { queryRoute } from '@plinth/protocol';
import { defineHandler } from '../http/route-handler.js';
import { actorFor } from './act-as.js';

/**
 * `POST /v1/query`: one query AST compiled into one parameterised statement, run as the role
 * `x-plinth-act-as` names (the service role without it).
 *
 * @example
 * ```ts
 * handlers.push(queryHandler);
 * ```
 */
export const queryHandler = defineHandler(queryRoute, async ({ input, request, services, idempotency }) =>
  services.data.query(
    input,
    await actorFor(request, (token) => services.auth.sessions.authenticate(token)),
    idempotency,
  ),
);
