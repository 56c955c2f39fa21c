/**
 * A keyset position in a list ordered by a time and then an id: the last row's time as
 * PostgreSQL's exact UTC text (to the microsecond: a JS Date would drop them, and the page after
 * a tie would start before the cursor), and its id.
 */
export interface TimeCursor {
  readonly at: string;
  readonly id: string;
}

/**
 * The opaque `nextCursor` of a list: base64url of where the page ended. Only a position, never a
 * filter, so a forged one can only move where a page starts.
 *
 * @example
 * ```ts
 * encodeTimeCursor({ at: '2026-12-01T10:00:00.000001Z', id: '42' }); // 'WyIyMDI2LTEy…'
 * ```
 */
export function encodeTimeCursor(cursor: TimeCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

const exactTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * The position in a cursor from {@link encodeTimeCursor}, or undefined when it is not one, so
 * the route answers 400 rather than letting PostgreSQL refuse the values with a 500: the time
 * must be a real one (`Date.parse` takes 30 February and moves it to March; PostgreSQL refuses
 * it) and the id must pass `isId`.
 *
 * @example
 * ```ts
 * decodeTimeCursor('garbage', (id) => /^\d+$/.test(id)); // undefined
 * ```
 */
export function decodeTimeCursor(cursor: string, isId: (id: string) => boolean): TimeCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, id] = value;
    if (typeof at !== 'string' || typeof id !== 'string' || !isId(id)) return undefined;
    const time = Date.parse(at);
    if (!exactTime.test(at) || Number.isNaN(time) || at.startsWith('0000')) return undefined;
    if (new Date(time).toISOString().slice(0, 19) !== at.slice(0, 19)) return undefined;
    return { at, id };
  } catch {
    return undefined;
  }
}
