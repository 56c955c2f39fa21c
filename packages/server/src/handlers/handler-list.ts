import type { RouteHandler } from './define-handler.js';
import { healthHandler } from './health.js';

/**
 * Every handler the server has, one per route of @plinth/protocol's table. A route without one
 * answers 501 `not_implemented`; a test pins which routes those are.
 */
export const handlers: readonly RouteHandler[] = [healthHandler as RouteHandler];
