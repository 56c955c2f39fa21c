import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Fewest random bytes an opaque token may carry: 128 bits (ASVS 5.0 7.2.3). */
export const minOpaqueTokenBytes = 16;

/** A freshly minted token: hand `token` to the user once, store only `hash`. */
export interface OpaqueToken {
  /** `prefix` followed by the base64url random bytes. */
  token: string;
  /** Lower-case hex SHA-256 of `token`. */
  hash: string;
}

/**
 * Mints an opaque bearer token (refresh token, magic link, email verification, password reset,
 * OAuth code) from the CSPRNG. The prefix (`rt_`, `ml_`, …) makes a leaked token recognisable
 * to secret scanners and to people; it adds no secrecy. The token is high-entropy, so a plain
 * SHA-256 is enough to store it: there is nothing to brute-force, unlike a password.
 *
 * @example
 * ```ts
 * const { token, hash } = createOpaqueToken('rt_');
 * await db.insertRefreshToken({ tokenHash: hash, ... }); // the raw token is never stored
 * return { refreshToken: token };
 * ```
 */
export function createOpaqueToken(prefix: string, bytes = 32): OpaqueToken {
  // Tokens travel in URLs (magic links) and headers, so the prefix keeps to the base64url alphabet too.
  if (!/^[A-Za-z0-9_-]*$/.test(prefix)) throw new RangeError('An opaque token prefix may only use [A-Za-z0-9_-]');
  if (!Number.isInteger(bytes) || bytes < minOpaqueTokenBytes) {
    throw new RangeError(`An opaque token needs at least ${minOpaqueTokenBytes} random bytes, got ${bytes}`);
  }
  const token = prefix + randomBytes(bytes).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}

/**
 * The hash under which a token is stored and looked up.
 *
 * @example
 * ```ts
 * const row = await db.findRefreshTokenByHash(hashOpaqueToken(presentedToken));
 * ```
 */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Compares two raw tokens in constant time. Both are hashed first, so the comparison runs over
 * equal-length digests and reveals neither the tokens' lengths nor where they first differ.
 *
 * @example
 * ```ts
 * opaqueTokensEqual(presented, expected); // true only for the identical string
 * ```
 */
export function opaqueTokensEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * Checks a presented raw token against a stored hex hash in constant time.
 *
 * @example
 * ```ts
 * if (!opaqueTokenMatchesHash(presented, row.tokenHash)) return { ok: false, reason: 'invalid' };
 * ```
 */
export function opaqueTokenMatchesHash(token: string, storedHash: string): boolean {
  const stored = Buffer.from(storedHash, 'hex');
  // A stored value that is not 32 bytes of hex can never match; its length is not a secret.
  if (stored.length !== 32 || stored.toString('hex') !== storedHash.toLowerCase()) return false;
  return timingSafeEqual(sha256(token), stored);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
