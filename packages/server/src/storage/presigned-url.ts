import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/http-error.js';

/**
 * URLs the server signs for one holder (an upload's bytes): HMAC-SHA256 with the server's
 * storage key over the method, the path and every query parameter, so changing any of them, the
 * expiry included, breaks the signature. What a URL allows (key, types, sizes, owner) is not in
 * the URL but in the grant it names, which only the server can change.
 */
export interface PresignedUrls {
  /** `path?…&expires=…&signature=…` for `method` until `expiresAt`. */
  sign(method: string, path: string, params: Record<string, string>, expiresAt: Date): string;
  /** Throws a 403 naming the problem unless `url` carries a valid, unexpired signature for `method`. */
  verify(method: string, url: URL): void;
}

const signatureParam = 'signature';
const expiresParam = 'expires';

/** The text a signature covers: method, path, then the parameters sorted by name. */
function canonical(method: string, path: string, params: Iterable<[string, string]>): string {
  const sorted = [...params]
    .filter(([name]) => name !== signatureParam)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${method}\n${path}\n${sorted.join('&')}`;
}

/**
 * Signs and checks presigned URLs with `key` (32 random bytes kept in `plinth.server_secrets`,
 * shared by every instance).
 *
 * @example
 * ```ts
 * const urls = presignedUrls(key);
 * const path = urls.sign('PUT', '/v1/storage/uploads/123', {}, new Date(Date.now() + 600_000));
 * urls.verify('PUT', new URL(path, 'http://localhost'));
 * ```
 */
export function presignedUrls(key: Buffer, now: () => number = Date.now): PresignedUrls {
  const mac = (text: string) => createHmac('sha256', key).update(text).digest();
  return {
    sign(method, path, params, expiresAt) {
      const all = { ...params, [expiresParam]: String(Math.floor(expiresAt.getTime() / 1000)) };
      const signature = mac(canonical(method, path, Object.entries(all))).toString('base64url');
      return `${path}?${new URLSearchParams({ ...all, [signatureParam]: signature })}`;
    },
    verify(method, url) {
      const given = url.searchParams.get(signatureParam);
      const expires = url.searchParams.get(expiresParam);
      const names = [...url.searchParams.keys()];
      if (given === null || expires === null || new Set(names).size !== names.length) {
        throw new HttpError(
          'permission_denied',
          'This URL is not one the server signed (its signature or expiry is missing, or a parameter is repeated). Ask your server for a new one.',
        );
      }
      const expected = mac(canonical(method, url.pathname, url.searchParams));
      const presented = Buffer.from(given, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw new HttpError(
          'permission_denied',
          'The URL’s signature does not match: it was changed after the server signed it. Ask your server for a new one.',
        );
      }
      const expiresAtMs = Number(expires) * 1000;
      if (!(expiresAtMs > now())) {
        throw new HttpError(
          'permission_denied',
          `This URL expired at ${new Date(expiresAtMs).toISOString()}. Ask your server for a new one.`,
          { expiredAt: new Date(expiresAtMs).toISOString() },
        );
      }
    },
  };
}
