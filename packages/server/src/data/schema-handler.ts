import { schemaRoute } from '@plinth/protocol';
import { defineHandler } from '../http/route-handler.js';

/**
 * `GET /v1/schema`: the exposed tables and views with their columns, keys and enums (the input
 * of `plinth gen types`). Plinth's own schemas are never in it.
 *
 * @example
 * ```ts
 * handlers.push(schemaHandler);
 * ```
 */
export const schemaHandler = defineHandler(schemaRoute, async ({ services }) => services.data.describe());
