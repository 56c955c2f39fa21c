import type { Route } from './route.js';
import * as auth from './routes/auth.js';
import { healthRoute } from './routes/health.js';

/**
 * Every route of the wire contract. The server mounts exactly these; nothing else defines a
 * route. Order is the order `plinth routes` prints.
 */
export const routeTable: readonly Route[] = /* @__PURE__ */ Object.freeze([
  healthRoute,
  auth.signUpRoute,
  auth.signInRoute,
  auth.signOutRoute,
  auth.getMeRoute,
  auth.refreshRoute,
  auth.sendMagicLinkRoute,
  auth.verifyMagicLinkRoute,
  auth.exchangeCodeRoute,
  auth.updatePasswordRoute,
  auth.requestPasswordResetRoute,
  auth.confirmPasswordResetRoute,
  auth.verifyEmailRoute,
]);

/**
 * The routes anyone may call (auth `none`), as `METHOD path` lines: the public attack surface,
 * which `plinth routes --public` prints and a test pins.
 *
 * @example
 * ```ts
 * auditRoutes(); // ['GET /v1/health', 'POST /v1/auth/sign-up', ...]
 * ```
 */
export function auditRoutes(routes: readonly Route[] = routeTable): string[] {
  return routes.filter((route) => route.auth === 'none').map((route) => `${route.method} ${route.path}`);
}
