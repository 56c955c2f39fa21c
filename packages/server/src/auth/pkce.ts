import { createHash, timingSafeEqual } from 'node:crypto';

// RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
const codeVerifierPattern = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Whether `verifier` is a well-formed RFC 7636 code verifier: 43 to 128 characters of
 * `[A-Za-z0-9-._~]`. Shorter verifiers carry too little entropy to stop a stolen code being
 * redeemed by guessing.
 *
 * @example
 * ```ts
 * isValidCodeVerifier('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'); // true
 * isValidCodeVerifier('too-short'); // false
 * ```
 */
export function isValidCodeVerifier(verifier: string): boolean {
  return codeVerifierPattern.test(verifier);
}

/**
 * The S256 code challenge for a verifier: base64url(SHA-256(ASCII(verifier))) without padding.
 *
 * @example
 * ```ts
 * codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
 * // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 * ```
 */
export function codeChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export interface PkceCheck {
  /** The verifier the client sent with the code exchange. */
  codeVerifier: string;
  /** The challenge stored with the authorization code. */
  codeChallenge: string;
  /** The method stored with the authorization code. */
  method: string;
}

/**
 * Checks a code exchange's verifier against the challenge from the authorization request.
 * Only S256 is accepted: `plain` sends the secret in the authorization request itself, so it
 * protects nothing against the interception PKCE exists to stop. The comparison is constant-time.
 *
 * @example
 * ```ts
 * verifyPkce({ codeVerifier, codeChallenge: stored.codeChallenge, method: stored.method }); // true or false
 * ```
 */
export function verifyPkce({ codeVerifier, codeChallenge, method }: PkceCheck): boolean {
  if (method !== 'S256' || !isValidCodeVerifier(codeVerifier)) return false;
  const expected = Buffer.from(codeChallengeS256(codeVerifier), 'utf8');
  const presented = Buffer.from(codeChallenge, 'utf8');
  // Every S256 challenge is 43 characters, so a length mismatch gives nothing away.
  if (presented.length !== expected.length) return false;
  return timingSafeEqual(presented, expected);
}
