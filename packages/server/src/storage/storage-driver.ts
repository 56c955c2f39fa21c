/**
 * Where object bytes live. Metadata (keys, sizes, types, checksums, owners) lives in the database;
 * a driver only stores, reads and removes bytes under keys it is given. The local-disk driver is
 * the default; the S3-compatible driver keeps bytes in a bucket of any S3-compatible service
 * (docs/storage.md).
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

/** What every driver does. Keys are `<bucket>/<object key>`-like paths, already checked by the caller. */
interface DriverBase {
  /** The object's bytes (or a range of them), or undefined when there is no such key. */
  read(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Removes the object; no error when it is already gone. */
  remove(key: string): Promise<void>;
  /** A second object under `to` with the bytes of `from` (which must exist). */
  copy(from: string, to: string): Promise<void>;
  /** Removes staged bytes older than `olderThanMs` left by a crash or an abandoned upload; how many. */
  sweepStaging(olderThanMs: number): Promise<number>;
}

/** The local-disk driver: uploads stream through the Plinth server to a staging file. */
export interface LocalStorageDriver extends DriverBase {
  readonly kind: 'local';
  /**
   * Streams `body` to a staging area, counting, hashing and keeping the first bytes as it goes.
   * Past `limits.maxBytes` it stops reading and rejects with {@link ObjectTooLargeError}; if the
   * body fails (the connection was cut) it rejects with that error. Either way nothing is left
   * behind.
   */
  stage(body: AsyncIterable<Uint8Array>, limits: WriteLimits): Promise<StagedObject>;
}

/** A part of a multipart upload as the storage service lists it. */
export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
}

/** A staged upload the storage service holds, read back for its checks. */
export interface InspectedObject extends StagedObject {
  /** The `Content-Type` it was sent with. */
  readonly contentType: string;
}

/**
 * The S3-compatible driver: browsers send bytes straight to the storage service under a staging
 * key (a POST policy, or presigned part URLs), and the server reads them back to check them
 * before copying them into place.
 */
export interface S3StorageDriver extends DriverBase {
  readonly kind: 's3';
  /** The staging key of an upload: bytes sent under a grant land here until they are checked. */
  stagingKey(uploadId: string): string;
  /** A form upload (POST policy) of exactly `key`, its type and its size range, until `expiresAt`. */
  postPolicy(request: {
    key: string;
    contentType: string | undefined;
    minBytes: number;
    maxBytes: number;
    expiresAt: Date;
  }): { url: string; fields: Record<string, string> };
  /**
   * Reads a staged upload back, counting and hashing it; undefined when nothing is there. Past
   * `maxBytes` it stops and rejects with {@link ObjectTooLargeError} (the bytes stay staged).
   * Its commit copies the bytes it read (matched by ETag) into place and removes the staged key.
   */
  inspect(key: string, maxBytes: number): Promise<InspectedObject | undefined>;
  /** Starts a native multipart upload of `key`; its upload id. */
  createMultipart(key: string): Promise<string>;
  /** A presigned URL that PUTs one part's bytes, until `expiresAt`. */
  partUrl(key: string, multipartId: string, partNumber: number, expiresAt: Date): Promise<string>;
  /** The parts stored so far, by number; undefined when the multipart upload is gone. */
  listParts(key: string, multipartId: string): Promise<StoredPart[] | undefined>;
  /** Joins the parts into the object `key`. */
  completeMultipart(key: string, multipartId: string, parts: readonly StoredPart[]): Promise<void>;
  /** Drops a multipart upload and its parts; no error when it is already gone. */
  abortMultipart(key: string, multipartId: string): Promise<void>;
}

/** Where object bytes live: the local disk, or an S3-compatible service. */
export type StorageDriver = LocalStorageDriver | S3StorageDriver;

/** A write went over its size limit; nothing was kept. */
export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The upload is over its ${maxBytes}-byte limit.`);
    this.name = 'ObjectTooLargeError';
  }
}
