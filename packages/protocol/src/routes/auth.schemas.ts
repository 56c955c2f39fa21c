import * as z from 'zod/mini';

// Lengths follow docs/security.md: 8..256 accepts long passphrases without truncation; the server
// does the common-password check.
const email = z.string().check(z.email(), z.maxLength(254));
const newPassword = z.string().check(z.minLength(8), z.maxLength(256));
const anyPassword = z.string().check(z.maxLength(256));
const redirectTo = z.optional(z.string().check(z.url()));
const oneTimeToken = z.string().check(z.minLength(1), z.maxLength(512));

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

export const signUpSchemas = { request: z.object({ email, password: newPassword, redirectTo }), response: accepted };

export const signInSchemas = {
  request: z.object({ email, password: anyPassword, mode: sessionMode }),
  response: signedInSchema,
};

export const signOutSchemas = {
  request: z.object({ scope: z.optional(z.enum(['local', 'others', 'global'])) }),
  response: z.object({ signedOut: z.number() }),
};

export const getMeSchemas = { request: z.object({}), response: z.object({ user: userSchema }) };

export const refreshSchemas = {
  request: z.object({ refreshToken: z.optional(z.string()), mode: sessionMode }),
  response: signedInSchema,
};

export const signInWithMagicLinkSchemas = { request: z.object({ email, redirectTo }), response: accepted };

export const verifyMagicLinkSchemas = {
  request: z.object({ token: oneTimeToken, mode: sessionMode }),
  response: signedInSchema,
};

// RFC 7636 §4.1: 43..128 characters of the unreserved set. The SDK's PKCE verifier and its
// OAuth `state` are both base64url of 32 random bytes: 43 characters.
const pkceString = z.string().check(z.regex(/^[A-Za-z0-9\-._~]{43,128}$/));

const providerName = z.string().check(z.regex(/^[a-z0-9_-]{1,64}$/));

export const signInWithOAuthSchemas = {
  request: z.object({
    provider: providerName,
    // Required, and matched exactly against the server's allow-list (docs/security.md, OAuth).
    redirectTo: z.string().check(z.url()),
    // BASE64URL(SHA-256(verifier)) is always 43 characters (RFC 7636 §4.2).
    codeChallenge: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
    // S256 only: `plain` would let whoever sees the authorize URL redeem the code.
    codeChallengeMethod: z.literal('S256'),
    state: pkceString,
  }),
  // The server answers with a redirect to the provider; there is no body to read.
  response: z.undefined(),
};

// RFC 6749 §4.1.2: the provider's answer. `code` on success; `error` (and no code) when the user
// declined or the provider failed. `iss` is RFC 9207's mix-up defence, checked when present.
export const oauthCallbackSchemas = {
  request: z.object({
    provider: providerName,
    code: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
    state: z.string().check(z.minLength(1), z.maxLength(512)),
    error: z.optional(z.string().check(z.maxLength(256))),
    error_description: z.optional(z.string().check(z.maxLength(2048))),
    iss: z.optional(z.string().check(z.maxLength(2048))),
  }),
  // The server answers with a redirect to the app; there is no body to read.
  response: z.undefined(),
};

export const exchangeCodeSchemas = {
  request: z.object({
    code: oneTimeToken,
    codeVerifier: pkceString,
    mode: sessionMode,
  }),
  response: signedInSchema,
};

export const updatePasswordSchemas = {
  request: z.object({ currentPassword: anyPassword, newPassword }),
  response: z.object({ updated: z.literal(true) }),
};

export const resetPasswordSchemas = { request: z.object({ email, redirectTo }), response: accepted };

export const confirmPasswordResetSchemas = {
  request: z.object({ token: oneTimeToken, newPassword }),
  response: z.object({ updated: z.literal(true) }),
};

export const verifyEmailSchemas = {
  request: z.object({ token: oneTimeToken }),
  response: z.object({ verified: z.literal(true) }),
};

/** A session as its owner sees it: enough to recognise and revoke it, nothing secret. */
export const sessionInfoSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  /** When it was last seen: its sign-in or last refresh (access tokens are checked without writing). */
  refreshedAt: z.string(),
  /** The client's address at that sign-in or refresh, when known. */
  ip: z.nullable(z.string()),
  /** Its user agent then, when known (at most 512 characters). */
  userAgent: z.nullable(z.string()),
  /** A readable guess from the user agent (`Chrome on macOS`), for people to recognise it. */
  device: z.string(),
  /** The session this request was made with. */
  current: z.boolean(),
});

export const listSessionsSchemas = {
  request: z.object({}),
  response: z.object({ sessions: z.array(sessionInfoSchema) }),
};

export const revokeSessionSchemas = {
  request: z.object({ id: z.string().check(z.uuid()) }),
  response: z.object({ revoked: z.boolean() }),
};

/** A user, as the auth routes return them. */
export type User = z.output<typeof userSchema>;
/** Access and refresh tokens, in token mode. */
export type TokenSession = z.output<typeof tokenSessionSchema>;
/** The answer of every route that signs someone in. */
export type SignedIn = z.output<typeof signedInSchema>;
/** One of the user's sessions. */
export type SessionInfo = z.output<typeof sessionInfoSchema>;
