import { adminCreateApiKeyHandler, adminListApiKeysHandler, adminRevokeApiKeyHandler } from './admin/api-keys.js';
import { adminListSessionsHandler, adminRevokeSessionHandler } from './admin/sessions.js';
import { adminDeleteUserHandler, adminUpdateUserHandler } from './admin/users.js';
import { getMeHandler } from './auth/get-me.js';
import { sendMagicLinkHandler, verifyMagicLinkHandler } from './auth/magic-link.js';
import { exchangeCodeHandler, oauthAuthorizeHandler, oauthCallbackHandler } from './auth/oauth.js';
import { confirmPasswordResetHandler, requestPasswordResetHandler, updatePasswordHandler } from './auth/passwords.js';
import { refreshHandler } from './auth/refresh.js';
import { listSessionsHandler, revokeSessionHandler } from './auth/sessions.js';
import { signInHandler } from './auth/sign-in.js';
import { signOutHandler } from './auth/sign-out.js';
import { signUpHandler } from './auth/sign-up.js';
import { verifyEmailHandler } from './auth/verify-email.js';
import { batchHandler } from './data/batch.js';
import { queryHandler } from './data/query.js';
import { schemaHandler } from './data/schema.js';
import { sqlHandler } from './data/sql.js';
import type { RouteHandler } from './define-handler.js';
import { healthHandler } from './health.js';

/**
 * Every handler the server has, one per route of @plinth/protocol's table. A route without one
 * would answer 501 `not_implemented`; a test pins that there is none.
 */
export const handlers: readonly RouteHandler[] = [
  healthHandler,
  signUpHandler,
  signInHandler,
  signOutHandler,
  getMeHandler,
  refreshHandler,
  sendMagicLinkHandler,
  verifyMagicLinkHandler,
  oauthAuthorizeHandler,
  oauthCallbackHandler,
  exchangeCodeHandler,
  updatePasswordHandler,
  requestPasswordResetHandler,
  confirmPasswordResetHandler,
  verifyEmailHandler,
  listSessionsHandler,
  revokeSessionHandler,
  adminListSessionsHandler,
  adminRevokeSessionHandler,
  adminUpdateUserHandler,
  adminDeleteUserHandler,
  adminCreateApiKeyHandler,
  adminListApiKeysHandler,
  adminRevokeApiKeyHandler,
  queryHandler,
  sqlHandler,
  batchHandler,
  schemaHandler,
] as RouteHandler[];
