import { type JWTVerifyGetKey, jwtVerify } from 'jose';
import { opaqueTokensEqual } from '../auth/opaque-token.js';
import { ProviderError } from './provider-http.js';

/**
 * Signature algorithms accepted on ID tokens: asymmetric only. `none` and the HMAC family are
 * out (an HS256 token would be "signed" with the client secret the server itself holds), and
 * naming them stops algorithm confusion (RFC 8725 §2.1).
 */
export const idTokenAlgorithms = ['RS256', 'ES256', 'EdDSA'] as const;

/** Who the provider says signed in. */
export interface ProviderIdentity {
  /** The provider's stable id for the account (`sub`). */
  subject: string;
  email: string | undefined;
  /** True only when the provider says so with a JSON `true`. */
  emailVerified: boolean;
}

/** What an ID token must match. */
export interface IdTokenExpectations {
  /** Accepted `iss` values (the configured issuer; Google adds its bare host). */
  issuers: readonly string[];
  /** The client id: `aud` must contain it, and `azp`, when present, must equal it. */
  clientId: string;
  /** The nonce sent with this flow's authorization request. */
  nonce: string;
  /** The provider's signing keys (its JWKS). */
  keys: JWTVerifyGetKey;
}

// Provider clocks drift a little; tokens are minutes long, so a short leeway costs nothing.
const clockToleranceSeconds = 30;

/**
 * Verifies an ID token (OpenID Connect Core §3.1.3.7): the signature against the provider's
 * keys with an allow-listed algorithm, `iss`, `aud`, `azp`, `exp`, `iat`, and the flow's `nonce`
 * (which binds the token to this sign-in, so a token from another flow cannot be replayed into it).
 * Any failure is a {@link ProviderError}.
 *
 * @example
 * ```ts
 * const who = await verifyIdToken(idToken, { issuers: [issuer], clientId, nonce: flow.nonce, keys });
 * ```
 */
export async function verifyIdToken(idToken: string, expected: IdTokenExpectations): Promise<ProviderIdentity> {
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(idToken, expected.keys, {
      issuer: [...expected.issuers],
      audience: expected.clientId,
      algorithms: [...idTokenAlgorithms],
      requiredClaims: ['sub', 'iat', 'exp'],
      clockTolerance: clockToleranceSeconds,
    }));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ProviderError(`ID token: ${typeof code === 'string' ? code : 'invalid'}`, { cause: error });
  }
  if (typeof claims.nonce !== 'string' || !opaqueTokensEqual(claims.nonce, expected.nonce))
    throw new ProviderError('ID token: the nonce is not this sign-in’s');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if ((audiences.length > 1 || claims.azp !== undefined) && claims.azp !== expected.clientId)
    throw new ProviderError('ID token: azp is not this client');
  if (typeof claims.sub !== 'string' || claims.sub === '' || claims.sub.length > 255)
    throw new ProviderError('ID token: sub is missing or malformed');
  return identityFromClaims(claims.sub, claims);
}

/**
 * The identity in a set of claims (an ID token's, or the userinfo endpoint's): an email is kept
 * only if it looks like one, and counts as verified only when `email_verified` is JSON `true`.
 *
 * @example
 * ```ts
 * identityFromClaims('248289761001', { email: 'jane@example.com', email_verified: true });
 * ```
 */
export function identityFromClaims(subject: string, claims: Record<string, unknown>): ProviderIdentity {
  const email = plausibleEmail(claims.email);
  return { subject, email, emailVerified: email !== undefined && claims.email_verified === true };
}

/**
 * An email address worth matching against accounts, or undefined.
 *
 * @example
 * ```ts
 * plausibleEmail('ada@example.com'); // 'ada@example.com'
 * plausibleEmail('not an email'); // undefined
 * ```
 */
export function plausibleEmail(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 254) return undefined;
  return /^[^\s@]+@[^\s@]+$/.test(value) ? value : undefined;
}
