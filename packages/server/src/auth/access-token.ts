import { createPrivateKey, createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';

/** The only JWS algorithm issued or accepted: EdDSA over Ed25519 (RFC 8725 §3.1, one family allow-listed). */
export const accessTokenAlgorithm = 'EdDSA';
/** The JWT `typ` header for OAuth access tokens (RFC 9068 §2.1), so no other JWT can pass for one. */
export const accessTokenType = 'at+jwt';
/** Shortest access token lifetime allowed, in seconds (5 minutes). */
export const minAccessTokenTtlSeconds = 300;
/** Longest access token lifetime allowed, in seconds (60 minutes): revocation waits at most this long. */
export const maxAccessTokenTtlSeconds = 3600;

// Headers that name or carry a verification key. The key is always our own, so a token that
// tries to choose one is hostile even when its signature would otherwise check out (RFC 8725 §3.10).
const keySelectingHeaders = ['jwk', 'jku', 'x5u', 'x5c'] as const;

// Far larger than any token we issue; bounds the work an attacker can make us do per request.
const maxTokenLength = 8 * 1024;
// Compact JWS, strictly: the base64 decoder underneath would otherwise skip stray whitespace and
// let one token be spelled several ways.
const compactJwsPattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// User and session ids are database UUIDs: anything else in `sub` or `sid` would reach a uuid
// column and fail there as a server error instead of a refused token.
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An Ed25519 key pair as JWKs, ready to store. Both carry `kid`, `alg` and `use`. */
export interface SigningKeys {
  privateJwk: JWK;
  publicJwk: JWK;
  /** The RFC 7638 thumbprint of the public key; written into every token's header. */
  kid: string;
}

/**
 * Generates a fresh Ed25519 signing key pair. Store `privateJwk` as a secret; `publicJwk` is
 * safe to publish.
 *
 * @example
 * ```ts
 * const { privateJwk, publicJwk, kid } = await generateSigningKeys();
 * await secrets.save('access-token-key', { privateJwk, publicJwk });
 * ```
 */
export async function generateSigningKeys(): Promise<SigningKeys> {
  const { publicKey, privateKey } = await generateKeyPair(accessTokenAlgorithm, { crv: 'Ed25519', extractable: true });
  const bare = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(bare);
  const labels = { kid, alg: accessTokenAlgorithm, use: 'sig' };
  return { privateJwk: { ...(await exportJWK(privateKey)), ...labels }, publicJwk: { ...bare, ...labels }, kid };
}

export interface AccessTokenOptions {
  privateJwk: JWK;
  /** Must carry the `kid` that tokens are issued under, as {@link generateSigningKeys} gives it. */
  publicJwk: JWK;
  /** `iss` of every token, e.g. the server's public URL. */
  issuer: string;
  /** `aud` of every token, e.g. the API's URL. */
  audience: string;
  /** Lifetime of a token, 300 to 3600 seconds. */
  ttlSeconds: number;
  /** The current time; defaults to the system clock. */
  clock?: () => Date;
}

/** What the server puts in a token. */
export interface AccessTokenSubject {
  /** The user's id, a UUID. */
  userId: string;
  /** The session the token belongs to, a UUID; revoking the session must make the server refuse the token. */
  sessionId: string;
  role?: string;
  /**
   * Fixes `iat` (seconds) and `jti` instead of now and a random id. EdDSA signatures are
   * deterministic, so the same subject, time and id give the same token byte for byte: a refresh
   * repeated inside the grace window answers exactly what the first one did.
   */
  issuedAt?: number;
  jti?: string;
}

/** The claims of a verified access token. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** The user id. */
  sub: string;
  /** The session id. */
  sid: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  role?: string;
}

/** Why a token was refused. None of them should be shown to the client in more detail than "invalid token". */
export type AccessTokenRejection =
  | 'malformed'
  | 'forbidden_header'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'wrong_type'
  | 'invalid_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'invalid_claims';

export type AccessTokenVerification =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: AccessTokenRejection };

export interface AccessTokens {
  /** Signs a new access token for a session. */
  issue(subject: AccessTokenSubject): Promise<{ token: string; expiresAt: Date }>;
  /**
   * Checks a token's header, signature and claims. Never throws for bad input. A valid result
   * says only that we issued the token and it has not expired: the caller must still check that
   * session `claims.sid` has not been revoked.
   */
  verify(token: string): Promise<AccessTokenVerification>;
}

/**
 * Creates the issuer and verifier of JWT access tokens (RFC 9068 profile, EdDSA / Ed25519).
 *
 * Tokens carry `iss`, `aud`, `sub` (user id), `sid` (session id), `iat`, `nbf`, `exp` and `jti`
 * under the header `{ alg: 'EdDSA', typ: 'at+jwt', kid }`. Verification trusts only the
 * configured public key: it refuses any algorithm but EdDSA, any `kid` but ours, and any token
 * whose header carries `jwk`, `jku`, `x5u` or `x5c`; it allows no clock skew. A token must say
 * it lives no longer than the TTL (`exp - iat <= ttlSeconds`: we never issue a longer one, so a
 * longer one was not issued by this configuration) and name its user and session by UUID.
 *
 * A signature cannot be taken back, so revocation is the caller's job: after `verify` succeeds,
 * look up `claims.sid` and refuse the request if that session is revoked or expired. The short
 * TTL (5 to 60 minutes) bounds how long a token outlives a revocation that is not checked.
 *
 * Throws at creation on a TTL outside 300..3600 s, on keys that are not a matching Ed25519 pair,
 * or on a public key without `kid`; `issue` throws on a user or session id that is not a UUID.
 *
 * @example
 * ```ts
 * const accessTokens = createAccessTokens({ privateJwk, publicJwk, issuer: 'https://api.example.com',
 *   audience: 'https://api.example.com', ttlSeconds: 900 });
 * const { token, expiresAt } = await accessTokens.issue({ userId: user.id, sessionId: session.id });
 *
 * const result = await accessTokens.verify(bearer);
 * if (!result.ok || (await sessions.isRevoked(result.claims.sid))) return unauthorized();
 * ```
 */
export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { issuer, audience, ttlSeconds } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < minAccessTokenTtlSeconds || ttlSeconds > maxAccessTokenTtlSeconds) {
    throw new RangeError(
      `Access token ttlSeconds must be a whole number from ${minAccessTokenTtlSeconds} to ${maxAccessTokenTtlSeconds}, got ${ttlSeconds}`,
    );
  }
  if (!issuer) throw new TypeError('Access tokens need an issuer');
  if (!audience) throw new TypeError('Access tokens need an audience');
  const { privateKey, publicKey, kid } = importSigningKeys(options.privateJwk, options.publicJwk);
  const clock = options.clock ?? (() => new Date());

  return {
    async issue({ userId, sessionId, role, issuedAt, jti }) {
      if (!uuidPattern.test(userId)) throw new TypeError('An access token needs a userId that is a UUID');
      if (!uuidPattern.test(sessionId)) throw new TypeError('An access token needs a sessionId that is a UUID');
      const now = issuedAt ?? Math.floor(clock().getTime() / 1000);
      const expiresAt = now + ttlSeconds;
      const token = await new SignJWT(role === undefined ? { sid: sessionId } : { sid: sessionId, role })
        .setProtectedHeader({ alg: accessTokenAlgorithm, typ: accessTokenType, kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(userId)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(expiresAt)
        .setJti(jti ?? randomUUID())
        .sign(privateKey);
      return { token, expiresAt: new Date(expiresAt * 1000) };
    },

    async verify(token) {
      if (typeof token !== 'string' || token.length > maxTokenLength || !compactJwsPattern.test(token)) {
        return reject('malformed');
      }
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        return reject('malformed');
      }
      // The header is judged before any key is touched: a token never gets to choose what it is checked with.
      if (keySelectingHeaders.some((name) => Object.hasOwn(header, name))) return reject('forbidden_header');
      if (header.alg !== accessTokenAlgorithm) return reject('algorithm_not_allowed');
      if (header.kid !== kid) return reject('unknown_key');

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, publicKey, {
          algorithms: [accessTokenAlgorithm],
          typ: accessTokenType,
          issuer,
          audience,
          clockTolerance: 0,
          maxTokenAge: ttlSeconds,
          requiredClaims: ['exp', 'nbf', 'iat', 'sub', 'sid', 'jti'],
          currentDate: clock(),
        }));
      } catch (error) {
        return reject(rejectionFor(error));
      }
      const claims = readClaims(payload);
      // maxTokenAge bounds how long ago iat was; this bounds how far past it exp may be.
      if (!claims || claims.exp - claims.iat > ttlSeconds) return reject('invalid_claims');
      return { ok: true, claims };
    },
  };
}

function reject(reason: AccessTokenRejection): AccessTokenVerification {
  return { ok: false, reason };
}

function importSigningKeys(
  privateJwk: JWK,
  publicJwk: JWK,
): { privateKey: KeyObject; publicKey: KeyObject; kid: string } {
  if (publicJwk.kty !== 'OKP' || publicJwk.crv !== 'Ed25519' || publicJwk.d !== undefined) {
    throw new TypeError('publicJwk must be a public Ed25519 JWK (kty OKP, crv Ed25519, no d)');
  }
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || typeof privateJwk.d !== 'string') {
    throw new TypeError('privateJwk must be a private Ed25519 JWK (kty OKP, crv Ed25519, with d)');
  }
  const { kid } = publicJwk;
  if (!kid) throw new TypeError('publicJwk needs a kid; generateSigningKeys() sets one');
  if (privateJwk.kid !== undefined && privateJwk.kid !== kid)
    throw new TypeError('privateJwk and publicJwk have different kids');
  // node:crypto imports JWKs synchronously, so a bad key fails here rather than at the first sign-in.
  const privateKey = createPrivateKey({ key: { ...privateJwk }, format: 'jwk' });
  const publicKey = createPublicKey({ key: { ...publicJwk }, format: 'jwk' });
  if (createPublicKey(privateKey).export({ format: 'jwk' }).x !== publicJwk.x) {
    throw new TypeError('privateJwk and publicJwk are not one key pair');
  }
  return { privateKey, publicKey, kid };
}

function rejectionFor(error: unknown): AccessTokenRejection {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' && error.reason === 'check_failed') return 'not_yet_valid';
    if (error.claim === 'typ') return 'wrong_type';
    return 'invalid_claims';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'invalid_signature';
  // Anything else (bad encoding, unsupported `crit`, a JWE) means the input is not one of our tokens.
  return 'malformed';
}

function readClaims(payload: JWTPayload): AccessTokenClaims | undefined {
  const { iss, aud, sub, sid, iat, nbf, exp, jti, role } = payload;
  if (
    typeof iss !== 'string' ||
    typeof aud !== 'string' ||
    typeof sub !== 'string' ||
    !uuidPattern.test(sub) ||
    typeof sid !== 'string' ||
    !uuidPattern.test(sid) ||
    typeof iat !== 'number' ||
    typeof nbf !== 'number' ||
    typeof exp !== 'number' ||
    typeof jti !== 'string' ||
    (role !== undefined && typeof role !== 'string')
  ) {
    return undefined;
  }
  const claims: AccessTokenClaims = { iss, aud, sub, sid, iat, nbf, exp, jti };
  if (role !== undefined) claims.role = role;
  return claims;
}
