import { createHash } from 'node:crypto';
import { ObjectTooLargeError, type WrittenObject } from './storage-driver.js';

/** How many of an upload's first bytes are kept for content sniffing. */
const headBytes = 512;

/**
 * Counts, hashes and keeps the first bytes of an upload as its chunks go by, the same for every
 * driver: past `maxBytes` (or on a chunk that is not bytes) `add` throws, and the caller stops
 * reading.
 *
 * @example
 * ```ts
 * const tally = byteTally(1024);
 * for await (const chunk of body) tally.add(chunk);
 * const { size, sha256, head } = tally.result();
 * ```
 */
export function byteTally(maxBytes: number) {
  const hash = createHash('sha256');
  const head = new Uint8Array(headBytes);
  let headLength = 0;
  let size = 0;
  return {
    add(chunk: Uint8Array): void {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(`An upload body must yield bytes (Uint8Array), got ${typeof chunk}.`);
      }
      size += chunk.byteLength;
      if (size > maxBytes) throw new ObjectTooLargeError(maxBytes);
      hash.update(chunk);
      if (headLength < headBytes) {
        // A copy: the producer may reuse its buffer for the next chunk.
        const taken = chunk.subarray(0, headBytes - headLength);
        head.set(taken, headLength);
        headLength += taken.byteLength;
      }
    },
    result(): WrittenObject {
      return { size, sha256: hash.digest('hex'), head: head.slice(0, headLength) };
    },
  };
}
