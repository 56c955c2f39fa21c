/**
 * Where object bytes live. Metadata (keys, sizes, types, checksums, owners) lives in the database;
 * a driver only stores, reads and removes bytes under keys it is given. The local-disk driver is
 * the default; an S3-compatible driver comes later (docs/storage.md).
 */

/** What a write checked while the bytes streamed through. */
export interface WrittenObject {
  /** Bytes written. */
  readonly size: number;
  /** SHA-256 of the bytes, lowercase hex. */
  readonly sha256: string;
  /** Up to the first 512 bytes, for content sniffing. */
  readonly head: Uint8Array;
}

/** Limits a write enforces while it streams, before anything becomes visible. */
export interface WriteLimits {
  /** More bytes than this and the write stops at once with {@link ObjectTooLargeError}. */
  readonly maxBytes: number;
}

/** A staged write: bytes are on the driver, not yet under their final key. */
export interface StagedObject extends WrittenObject {
  /** Moves the bytes under `key`, atomically: a reader sees the old object or the new, never part. */
  commit(key: string): Promise<void>;
  /** Removes the staged bytes (a refused upload). Safe to call twice, and after commit. */
  discard(): Promise<void>;
}

/** A byte range of an object, inclusive, as a `Range` header asks. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** The driver contract. Keys are `<bucket>/<object key>`, already checked by the caller. */
export interface StorageDriver {
  readonly kind: 'local';
  /**
   * Streams `body` to a staging area, counting, hashing and keeping the first bytes as it goes.
   * Past `limits.maxBytes` it stops reading and rejects with {@link ObjectTooLargeError}; if the
   * body fails (the connection was cut) it rejects with that error. Either way nothing is left
   * behind.
   */
  stage(body: AsyncIterable<Uint8Array>, limits: WriteLimits): Promise<StagedObject>;
  /** The object's bytes (or a range of them), or undefined when there is no such key. */
  read(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Removes the object; no error when it is already gone. */
  remove(key: string): Promise<void>;
  /** Removes staged bytes older than `olderThanMs` left by a crash mid-write; how many. */
  sweepStaging(olderThanMs: number): Promise<number>;
}

/** A write went over its size limit; nothing was kept. */
export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The upload is over its ${maxBytes}-byte limit.`);
    this.name = 'ObjectTooLargeError';
  }
}
