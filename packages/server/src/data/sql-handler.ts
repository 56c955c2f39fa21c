import { sqlRoute } from '@plinth/protocol';
import { defineHandler } from '../http/route-handler.js';
import { actorFor } from './act-as.js';

/**
 * `POST /v1/sql`: one statement with its values as parameters, run as the acting role under the
 * statement timeout; answers rows, column names and types, and the command tag.
 *
 * @example
 * ```ts
 * handlers.push(sqlHandler);
 * ```
 */
export const sqlHandler = defineHandler(sqlRoute, async ({ input, request, services, idempotency }) =>
  services.data.sql(input, await actorFor(request, (token) => services.auth.sessions.authenticate(token)), idempotency),
);
