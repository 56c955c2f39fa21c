import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/http-error.js';

/** One key of a keyset ordering: the order's columns, then the primary key as tiebreaker. */
export interface KeysetKey {
  readonly column: string;
  readonly direction: 'asc' | 'desc';
  readonly nulls: 'first' | 'last';
}

/** Makes and reads `after` cursors. */
export interface CursorCodec {
  /** The cursor after a row whose keys have these text values (`null` for SQL NULL). */
  encode(scope: string, keys: readonly KeysetKey[], values: readonly (string | null)[]): string;
  /** The key values in `cursor`; a 400 if it was altered or belongs to another ordering. */
  decode(scope: string, keys: readonly KeysetKey[], cursor: string): (string | null)[];
}

// The ordering a cursor belongs to: the table and every key with its direction and nulls. A
// cursor read under another ordering would silently skip or repeat rows, so it is refused.
const orderingDigest = (scope: string, keys: readonly KeysetKey[]) =>
  createHash('sha256')
    .update(JSON.stringify([scope, keys.map((key) => [key.column, key.direction, key.nulls])]))
    .digest('base64url')
    .slice(0, 22);

const invalid = () =>
  new HttpError(
    'validation_failed',
    'after: the cursor is not one this server made, or it was changed; pass nextCursor exactly as a previous answer gave it.',
    { field: 'after' },
  );

/**
 * A cursor codec whose cursors are `base64url(JSON) . HMAC-SHA256` under `key`: opaque to the
 * client, tamper-evident, and bound to the ordering they were made for. Key values are the text
 * forms of the last row's keys, so they compare exactly (no microseconds lost to a JS Date).
 *
 * @example
 * ```ts
 * const cursors = createCursorCodec(secret);
 * const after = cursors.encode('public.posts', keys, ['2026-11-23 10:00:00+00', '42']);
 * cursors.decode('public.posts', keys, after); // ['2026-11-23 10:00:00+00', '42']
 * ```
 */
export function createCursorCodec(key: Uint8Array): CursorCodec {
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    encode(scope, keys, values) {
      const payload = Buffer.from(JSON.stringify({ o: orderingDigest(scope, keys), k: values })).toString('base64url');
      return `${payload}.${mac(payload)}`;
    },
    decode(scope, keys, cursor) {
      const [payload, signature, extra] = cursor.split('.');
      if (!payload || !signature || extra !== undefined) throw invalid();
      const expected = Buffer.from(mac(payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
      let parsed: { o?: unknown; k?: unknown };
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { o?: unknown; k?: unknown };
      } catch {
        throw invalid();
      }
      if (parsed.o !== orderingDigest(scope, keys)) {
        throw new HttpError(
          'validation_failed',
          'after: this cursor belongs to another table or ordering; send the same table and order as the request that returned it, or drop after to start over.',
          { field: 'after' },
        );
      }
      const values = parsed.k;
      if (
        !Array.isArray(values) ||
        values.length !== keys.length ||
        !values.every((value) => value === null || typeof value === 'string')
      ) {
        throw invalid();
      }
      return values as (string | null)[];
    },
  };
}
