import { ConfigurationError } from '@plinth/core';

// RFC 4648 §5 without padding, as RFC 7636 asks for both the verifier and the challenge.
const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/**
 * 32 bytes from the platform CSPRNG, base64url: 43 characters, 256 bits. Used for the PKCE
 * verifier and the OAuth `state`.
 *
 * @example
 * ```ts
 * const state = randomToken(); // 43 characters of [A-Za-z0-9_-], new each call
 * ```
 */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The S256 code challenge of a PKCE verifier: BASE64URL(SHA-256(verifier)) (RFC 7636 §4.2),
 * with WebCrypto so it runs in browsers, Node and edge runtimes alike.
 *
 * @example
 * ```ts
 * await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
 * // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 * ```
 */
export async function codeChallenge(verifier: string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new ConfigurationError(
      'OAuth sign-in needs WebCrypto (crypto.subtle), which browsers offer only on https:// pages and localhost. Serve the page over https.',
      { code: 'invalid_configuration' },
    );
  }
  return base64url(new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}
