import * as z from 'zod/mini';
import { defineRoute } from '../route.js';

// Lengths follow SECURITY.md: 8..256 accepts long passphrases without truncation; the server
// does the common-password check.
const email = z.string().check(z.email(), z.maxLength(254));
const password = z.string().check(z.minLength(8), z.maxLength(256));
const redirectTo = z.optional(z.string().check(z.url()));

/** A user as the auth routes return them. */
export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  emailVerified: z.boolean(),
  createdAt: z.string(),
});

/**
 * Tokens for token mode (native apps, CLIs, servers). In cookie mode the server sets an HttpOnly
 * cookie instead and `session` is `null`: a browser never holds a token.
 */
export const tokenSessionSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('bearer'),
  /** Seconds since the epoch at which the access token expires. */
  expiresAt: z.number(),
});

/** What every route that signs someone in answers. */
export const signedInSchema = z.object({
  user: userSchema,
  session: z.nullable(tokenSessionSchema),
});

/** How a client wants its session: an HttpOnly cookie (browsers) or tokens in the body. */
const sessionMode = z.optional(z.enum(['cookie', 'token']));

/**
 * An answer that reads the same whether or not the account exists, so the route cannot be used
 * to learn who has an account.
 */
const accepted = z.object({ accepted: z.literal(true) });

const noBody = z.object({});

/** `POST /v1/auth/sign-up`. Always answers `accepted`; the account is usable once verified. */
export const signUpRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.signUp',
  method: 'POST',
  path: '/v1/auth/sign-up',
  auth: 'none',
  request: z.object({ email, password, redirectTo }),
  response: accepted,
});

/** `POST /v1/auth/sign-in` with email and password. */
export const signInRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.signIn',
  method: 'POST',
  path: '/v1/auth/sign-in',
  auth: 'none',
  request: z.object({ email, password: z.string().check(z.maxLength(256)), mode: sessionMode }),
  response: signedInSchema,
});

/** `POST /v1/auth/sign-out`: this session, the others, or all of them. */
export const signOutRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.signOut',
  method: 'POST',
  path: '/v1/auth/sign-out',
  auth: 'session',
  idempotent: true,
  request: z.object({ scope: z.optional(z.enum(['local', 'others', 'global'])) }),
  response: z.object({ signedOut: z.number() }),
});

/** `GET /v1/auth/me`: the signed-in user. */
export const getMeRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.getMe',
  method: 'GET',
  path: '/v1/auth/me',
  auth: 'session',
  request: noBody,
  response: z.object({ user: userSchema }),
});

/**
 * `POST /v1/auth/refresh`: trades a refresh token for a new pair. Retry-safe: within the reuse
 * grace window the server answers a repeated refresh with the same new pair.
 */
export const refreshRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.refresh',
  method: 'POST',
  path: '/v1/auth/refresh',
  auth: 'none',
  idempotent: true,
  request: z.object({ refreshToken: z.optional(z.string()), mode: sessionMode }),
  response: signedInSchema,
});

/** `POST /v1/auth/magic-link`: emails a single-use sign-in link. */
export const sendMagicLinkRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.signInWithMagicLink',
  method: 'POST',
  path: '/v1/auth/magic-link',
  auth: 'none',
  request: z.object({ email, redirectTo }),
  response: accepted,
});

/** `POST /v1/auth/magic-link/verify`: signs in with the token from a magic link. */
export const verifyMagicLinkRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.verifyMagicLink',
  method: 'POST',
  path: '/v1/auth/magic-link/verify',
  auth: 'none',
  request: z.object({ token: z.string().check(z.minLength(1), z.maxLength(512)), mode: sessionMode }),
  response: signedInSchema,
});

/** `POST /v1/auth/oauth/token`: exchanges an OAuth code and its PKCE verifier for a session. */
export const exchangeCodeRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.exchangeCode',
  method: 'POST',
  path: '/v1/auth/oauth/token',
  auth: 'none',
  request: z.object({
    code: z.string().check(z.minLength(1), z.maxLength(512)),
    // RFC 7636 §4.1: 43..128 characters of the unreserved set.
    codeVerifier: z.string().check(z.regex(/^[A-Za-z0-9\-._~]{43,128}$/)),
    mode: sessionMode,
  }),
  response: signedInSchema,
});

/** `POST /v1/auth/password`: changes the password and revokes the user's other sessions. */
export const updatePasswordRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.updatePassword',
  method: 'POST',
  path: '/v1/auth/password',
  auth: 'session',
  request: z.object({ currentPassword: z.string().check(z.maxLength(256)), newPassword: password }),
  response: z.object({ updated: z.literal(true) }),
});

/** `POST /v1/auth/recover`: emails a password-reset link if the account exists. */
export const requestPasswordResetRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.resetPassword',
  method: 'POST',
  path: '/v1/auth/recover',
  auth: 'none',
  request: z.object({ email, redirectTo }),
  response: accepted,
});

/** `POST /v1/auth/recover/confirm`: sets a new password with the token from a reset link. */
export const confirmPasswordResetRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.confirmPasswordReset',
  method: 'POST',
  path: '/v1/auth/recover/confirm',
  auth: 'none',
  request: z.object({ token: z.string().check(z.minLength(1), z.maxLength(512)), newPassword: password }),
  response: z.object({ updated: z.literal(true) }),
});

/** `POST /v1/auth/verify-email`: confirms an address with the token from a verification link. */
export const verifyEmailRoute = /* @__PURE__ */ defineRoute({
  name: 'auth.verifyEmail',
  method: 'POST',
  path: '/v1/auth/verify-email',
  auth: 'none',
  request: z.object({ token: z.string().check(z.minLength(1), z.maxLength(512)) }),
  response: z.object({ verified: z.literal(true) }),
});
