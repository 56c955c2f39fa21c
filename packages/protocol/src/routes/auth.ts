import { defineRoute } from '../route.js';
import type * as schemas from './auth.schemas.js';

/** `POST /v1/auth/sign-up`. Always answers `accepted`; the account is usable once verified. */
export const signUpRoute = /* @__PURE__ */ defineRoute<typeof schemas.signUpSchemas>()({
  name: 'auth.signUp',
  method: 'POST',
  path: '/v1/auth/sign-up',
  auth: 'none',
});

/** `POST /v1/auth/sign-in` with email and password. */
export const signInRoute = /* @__PURE__ */ defineRoute<typeof schemas.signInSchemas>()({
  name: 'auth.signIn',
  method: 'POST',
  path: '/v1/auth/sign-in',
  auth: 'none',
});

/** `POST /v1/auth/sign-out`: this session, the others, or all of them. */
export const signOutRoute = /* @__PURE__ */ defineRoute<typeof schemas.signOutSchemas>()({
  name: 'auth.signOut',
  method: 'POST',
  path: '/v1/auth/sign-out',
  auth: 'session',
  idempotent: true,
});

/** `GET /v1/auth/me`: the signed-in user. */
export const getMeRoute = /* @__PURE__ */ defineRoute<typeof schemas.getMeSchemas>()({
  name: 'auth.getMe',
  method: 'GET',
  path: '/v1/auth/me',
  auth: 'session',
});

/**
 * `POST /v1/auth/refresh`: trades a refresh token for a new pair. Retry-safe: within the reuse
 * grace window the server answers a repeated refresh with the same new pair.
 */
export const refreshRoute = /* @__PURE__ */ defineRoute<typeof schemas.refreshSchemas>()({
  name: 'auth.refresh',
  method: 'POST',
  path: '/v1/auth/refresh',
  auth: 'none',
  idempotent: true,
});

/** `POST /v1/auth/magic-link`: emails a single-use sign-in link. */
export const signInWithMagicLinkRoute = /* @__PURE__ */ defineRoute<typeof schemas.signInWithMagicLinkSchemas>()({
  name: 'auth.signInWithMagicLink',
  method: 'POST',
  path: '/v1/auth/magic-link',
  auth: 'none',
});

/** `POST /v1/auth/magic-link/verify`: signs in with the token from a magic link. */
export const verifyMagicLinkRoute = /* @__PURE__ */ defineRoute<typeof schemas.verifyMagicLinkSchemas>()({
  name: 'auth.verifyMagicLink',
  method: 'POST',
  path: '/v1/auth/magic-link/verify',
  auth: 'none',
});

/**
 * `GET /v1/auth/oauth/:provider/authorize`: starts an OAuth sign-in. The browser navigates here
 * (the server answers with a redirect to the provider), so the SDK builds the URL from this path
 * and never fetches it. PKCE S256 only; `state` comes back to `redirectTo` with the code.
 */
export const signInWithOAuthRoute = /* @__PURE__ */ defineRoute<typeof schemas.signInWithOAuthSchemas>()({
  name: 'auth.signInWithOAuth',
  method: 'GET',
  path: '/v1/auth/oauth/:provider/authorize',
  auth: 'none',
});

/**
 * `GET /v1/auth/oauth/:provider/callback`: where the provider sends the browser back after the
 * user signed in there. Not an SDK call: the server finishes the provider's leg (its own state,
 * PKCE and nonce), then redirects to the app's `redirectTo` with a Plinth code and the app's
 * `state`, or with `error`. Carries no code when the provider answers with an error.
 */
export const oauthCallbackRoute = /* @__PURE__ */ defineRoute<typeof schemas.oauthCallbackSchemas>()({
  name: 'auth.oauthCallback',
  method: 'GET',
  path: '/v1/auth/oauth/:provider/callback',
  auth: 'none',
});

/** `POST /v1/auth/oauth/token`: exchanges an OAuth code and its PKCE verifier for a session. */
export const exchangeCodeRoute = /* @__PURE__ */ defineRoute<typeof schemas.exchangeCodeSchemas>()({
  name: 'auth.exchangeCode',
  method: 'POST',
  path: '/v1/auth/oauth/token',
  auth: 'none',
});

/** `POST /v1/auth/password`: changes the password and revokes the user's other sessions. */
export const updatePasswordRoute = /* @__PURE__ */ defineRoute<typeof schemas.updatePasswordSchemas>()({
  name: 'auth.updatePassword',
  method: 'POST',
  path: '/v1/auth/password',
  auth: 'session',
});

/** `POST /v1/auth/reset-password`: emails a password-reset link if the account exists. */
export const resetPasswordRoute = /* @__PURE__ */ defineRoute<typeof schemas.resetPasswordSchemas>()({
  name: 'auth.resetPassword',
  method: 'POST',
  path: '/v1/auth/reset-password',
  auth: 'none',
});

/** `POST /v1/auth/reset-password/confirm`: sets a new password with the token from a reset link. */
export const confirmPasswordResetRoute = /* @__PURE__ */ defineRoute<typeof schemas.confirmPasswordResetSchemas>()({
  name: 'auth.confirmPasswordReset',
  method: 'POST',
  path: '/v1/auth/reset-password/confirm',
  auth: 'none',
});

/** `POST /v1/auth/verify-email`: confirms an address with the token from a verification link. */
export const verifyEmailRoute = /* @__PURE__ */ defineRoute<typeof schemas.verifyEmailSchemas>()({
  name: 'auth.verifyEmail',
  method: 'POST',
  path: '/v1/auth/verify-email',
  auth: 'none',
});

/** `GET /v1/auth/sessions`: the signed-in user's active sessions. */
export const listSessionsRoute = /* @__PURE__ */ defineRoute<typeof schemas.listSessionsSchemas>()({
  name: 'auth.listSessions',
  method: 'GET',
  path: '/v1/auth/sessions',
  auth: 'session',
});

/** `DELETE /v1/auth/sessions/:id`: ends one of the signed-in user's sessions. */
export const revokeSessionRoute = /* @__PURE__ */ defineRoute<typeof schemas.revokeSessionSchemas>()({
  name: 'auth.revokeSession',
  method: 'DELETE',
  path: '/v1/auth/sessions/:id',
  auth: 'session',
});
