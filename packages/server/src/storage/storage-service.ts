import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Bucket,
  contentType,
  type MultipartGrant,
  type ObjectInfo,
  partSizeLimits,
  type Route,
  type UploadGrant,
  type UploadPart,
} from '@plinth/protocol';
import type { Database } from '../database/database.js';
import { publishEvent, publishEvents } from '../events/event-log.js';
import { HttpError } from '../http/http-error.js';
import { type BucketRequest, createBucket, findBucket, listBuckets } from './bucket-store.js';
import { contentTypeMatches, sniffContentType } from './content-sniff.js';
import type { PresignedUrls } from './presigned-url.js';
import {
  type InspectedObject,
  type LocalStorageDriver,
  ObjectTooLargeError,
  type S3StorageDriver,
  type StagedObject,
  type StorageDriver,
} from './storage-driver.js';
import { isStorageUnavailable } from './storage-unavailable.js';

/** How long an upload URL lives unless the app says otherwise, in seconds. */
export const defaultGrantSeconds = 600;

/** What `createUploadUrl` fixes for one upload. */
export interface GrantRequest {
  bucket: string;
  key: string;
  contentTypes?: readonly string[] | undefined;
  minBytes?: number | undefined;
  maxBytes?: number | undefined;
  expiresIn?: number | undefined;
  userId?: string | undefined;
  metadata?: Readonly<Record<string, string>> | undefined;
}

/** What an upload request says about its bytes, from its headers. */
export interface UploadHeaders {
  /** `Content-Type`, as sent. */
  contentType: string | undefined;
  /** `Content-Length`, as sent. */
  contentLength: string | undefined;
  /** `Content-Digest` (RFC 9530), as sent: `sha-256=:<base64>:` is checked when present. */
  contentDigest: string | undefined;
}

/** Buckets, upload grants and objects: metadata in the database, bytes in the driver. */
export interface StorageService {
  readonly driver: StorageDriver;
  readonly urls: PresignedUrls;
  createBucket(request: BucketRequest): Promise<Bucket>;
  listBuckets(): Promise<Bucket[]>;
  createUploadUrl(request: GrantRequest): Promise<UploadGrant>;
  /** Streams an upload's bytes through the grant's checks and commits them as one object. */
  upload(uploadId: string, headers: UploadHeaders, body: AsyncIterable<Uint8Array>): Promise<ObjectInfo>;
  /**
   * S3: checks the bytes a form upload left at the storage service (against the `size` and
   * `sha256` the uploader sent, when it did) and commits them as one object.
   */
  completeUpload(
    uploadId: string,
    sent?: { size?: number | undefined; sha256?: string | undefined },
  ): Promise<ObjectInfo>;
  /** A grant for one upload sent in parts of `partSize` bytes (default 8 MiB). */
  createMultipartUpload(request: GrantRequest & { partSize?: number | undefined }): Promise<MultipartGrant>;
  /** Keeps one part (replacing one sent before under its number). */
  uploadPart(
    uploadId: string,
    partNumber: number,
    headers: Pick<UploadHeaders, 'contentLength' | 'contentDigest'>,
    body: AsyncIterable<Uint8Array>,
  ): Promise<UploadPart>;
  /** Where to send each of `parts`: the server's own part URLs, or the storage service's (S3). */
  partUrls(
    uploadId: string,
    parts: readonly number[],
  ): Promise<{ parts: { partNumber: number; url: string; headers: Record<string, string> }[] }>;
  /** The parts the server has: what a resumed upload need not send again. */
  listParts(uploadId: string): Promise<{ parts: UploadPart[]; partSize: number; state: string }>;
  /** Joins parts 1 to `parts` into one object, checked as a single upload is. */
  completeMultipartUpload(
    uploadId: string,
    request: { contentType: string; parts: number; sha256?: string | undefined },
  ): Promise<ObjectInfo>;
  /** Drops a multipart upload and its parts. */
  abortMultipartUpload(uploadId: string): Promise<{ aborted: boolean }>;
  /** Checks a presigned URL for `route`: signature, expiry (a 403 otherwise). */
  verifyUrl(route: Pick<Route, 'method' | 'path'>, url: URL): void;
  info(bucket: string, key: string): Promise<ObjectInfo>;
  /** A signed URL that reads one object until it expires (default 10 minutes, at most 7 days). */
  createDownloadUrl(
    bucket: string,
    key: string,
    options: { expiresIn?: number | undefined; download?: string | undefined },
  ): Promise<{ url: string; expiresAt: string }>;
  /**
   * An object and where its bytes are, for a download; with `publicOnly`, a 404 unless its
   * bucket is public (a private bucket looks the same as a missing one).
   */
  locate(
    bucket: string,
    key: string,
    options?: { publicOnly?: boolean },
  ): Promise<{ object: ObjectInfo; blob: string }>;
  remove(bucket: string, keys: readonly string[]): Promise<string[]>;
  /** Objects by key (byte order) under `prefix`, grouped into prefixes at `delimiter`, in pages. */
  list(
    bucket: string,
    options: {
      prefix?: string | undefined;
      delimiter?: string | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    },
  ): Promise<{ objects: ObjectInfo[]; prefixes: string[]; nextCursor: string | null }>;
  /** Gives an object another key (or bucket); its bytes stay where they are. A 409 if `to` is taken. */
  move(from: { bucket: string; key: string }, to: { bucket: string; key: string }): Promise<ObjectInfo>;
  /** A second object with the same bytes, under `to`. A 409 if `to` is taken. */
  copy(from: { bucket: string; key: string }, to: { bucket: string; key: string }): Promise<ObjectInfo>;
  /**
   * Forgets grants that expired unused over an hour ago (with the parts of unfinished multipart
   * uploads) and staged bytes a crash left behind.
   */
  sweep(): Promise<{ grants: number; staged: number }>;
}

interface ObjectRow {
  bucket: string;
  key: string;
  size: number | string;
  content_type: string;
  sha256: string;
  etag: string;
  owner: string | null;
  metadata: Record<string, string> | string;
  blob: string;
  created_at: Date | string;
  updated_at: Date | string;
}

interface GrantRow {
  id: string;
  bucket: string;
  key: string;
  content_types: string[];
  min_bytes: number | string;
  max_bytes: number | string;
  owner: string | null;
  metadata: Record<string, string> | string;
  state: 'pending' | 'uploading' | 'committed' | 'refused';
  kind: 'single' | 'multipart';
  part_size: number | string | null;
  /** S3: the storage service's id of the native multipart upload. */
  driver_upload_id: string | null;
  expires_at: Date | string;
}

interface PartRow {
  part_number: number;
  size: number | string;
  sha256: string;
  blob: string;
}

/**
 * Parts 1 to `count` of `parts` (sorted by number), every one there and every one but the last
 * `partSize` bytes, the last no more; a 400 naming `parts` otherwise.
 */
function wholeParts<Part extends UploadPart>(parts: readonly Part[], count: number, partSize: number): Part[] {
  const first = parts.filter((part) => part.partNumber <= count);
  const present = new Set(first.map((part) => part.partNumber));
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !present.has(n));
  if (missing.length > 0) {
    const many = missing.length > 1;
    throw new HttpError(
      'validation_failed',
      `parts: part${many ? 's' : ''} ${missing.slice(0, 10).join(', ')} ${many ? 'are' : 'is'} missing; send ${many ? 'them' : 'it'}, then complete again.`,
      { field: 'parts', missing: missing.slice(0, 100) },
    );
  }
  const wrong = first.find((part, i) => (i < count - 1 ? part.size !== partSize : part.size > partSize));
  if (wrong) {
    throw new HttpError(
      'validation_failed',
      `parts: part ${wrong.partNumber} is ${wrong.size} bytes; every part but the last must be ${partSize}, and the last no more. Send it again whole.`,
      { field: 'parts', partNumber: wrong.partNumber },
    );
  }
  return first;
}

const partOf = (row: PartRow): UploadPart => ({
  partNumber: row.part_number,
  size: Number(row.size),
  sha256: row.sha256,
});

const grantColumns =
  'id, bucket, key, content_types, min_bytes, max_bytes, owner, metadata, state, kind, part_size, driver_upload_id, expires_at';

/** Bytes per part unless the app says otherwise. */
export const defaultPartSize = 8 * 1024 * 1024;
/** S3's smallest part (all but the last). */
const s3MinPartSize = 5 * 1024 * 1024;
/** The largest object S3 copies in one CopyObject. */
const s3MaxCopyBytes = 5 * 1024 ** 3;
// A client that aborts an upload and at once sends it again with the same grant often gets here
// before this server has seen the aborted connection close and put the grant back: the grant is
// still claimed by a dead request. A request that finds its grant claimed therefore waits this
// long for the claim to end (polling the row, which any instance may release), and answers 409
// only if a live request still holds it then.
const claimWaitMs = 3000;
const claimPollMs = 50;
/** How long a multipart upload's URL lives unless the app says otherwise, in seconds. */
export const defaultMultipartSeconds = 3600;
// Multipart URLs are signed once for every route of the upload, under this method.
const multipartMethod = 'MULTIPART';
const multipartRoot = '/v1/storage/multipart/';
const multipartPath = (uploadId: string) => `${multipartRoot}${uploadId}`;

const iso = (value: Date | string) => new Date(value).toISOString();

// An HttpError ends an upload as refused, except the storage service being down: that upload was
// not checked, so it stays open to be completed again once the service is back.
const refuses = (error: unknown) => error instanceof HttpError && !isStorageUnavailable(error);

// Bytes no object names any more, removed after the commit that let them go: past that commit the
// storage service being down must not turn a done change into a 503, so they are left behind.
const leftBehindWhenDown = (error: unknown) => {
  if (!isStorageUnavailable(error)) throw error;
};

/** The key a list cursor resumes after; a 400 naming `cursor` if it is not one this server made. */
function cursorKey(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (cursor === '' || Buffer.from(key).toString('base64url') !== cursor) {
    throw new HttpError('validation_failed', 'cursor: not a cursor from this list; pass nextCursor as it came.', {
      field: 'cursor',
    });
  }
  return key;
}
const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

const objectOf = (row: ObjectRow): ObjectInfo => ({
  bucket: row.bucket,
  key: row.key,
  size: Number(row.size),
  contentType: row.content_type,
  sha256: row.sha256,
  etag: row.etag,
  owner: row.owner,
  metadata: json(row.metadata),
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

const objectColumns = 'bucket, key, size, content_type, sha256, etag, owner, metadata, blob, created_at, updated_at';
// The same, of `o` in a join.
const qualifiedObjectColumns = objectColumns.replace(/(^|, )/g, '$1o.');

/** The type without parameters, lowercase: what grants and buckets list. */
const bareType = (value: string) => (value.split(';')[0] ?? '').trim().toLowerCase();

/** The hex SHA-256 a `Content-Digest` header names, undefined without one; a 400 if unreadable. */
function digestOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/]{43}=):/i.exec(header);
  if (!match?.[1]) {
    throw new HttpError(
      'validation_failed',
      'Content-Digest must carry a SHA-256 like sha-256=:<base64 of the 32-byte digest>: (RFC 9530); other algorithms are not checked.',
      { field: 'content-digest' },
    );
  }
  return Buffer.from(match[1], 'base64').toString('hex');
}

/**
 * The storage service over `database` and `driver`. Upload URLs are absolute, under
 * `publicUrl()` (the server's URL as browsers reach it).
 *
 * Objects are stored under a driver key of their own per upload (`<bucket>/<upload id>`), and
 * the row in `plinth.storage_objects` says which one an object key currently is: the bytes are
 * moved into place first, and the row changes in one transaction with its event, so a reader sees
 * the old object or the new one, whole, and two uploads to one key end as one of them.
 *
 * @example
 * ```ts
 * const storage = createStorageService({ database, driver, urls, publicUrl: () => 'http://localhost:8787' });
 * await storage.createBucket({ name: 'avatars', allowedContentTypes: ['image/png'] });
 * ```
 */
export function createStorageService(options: {
  database: Database;
  driver: StorageDriver;
  urls: PresignedUrls;
  publicUrl: () => string | undefined;
}): StorageService {
  const { database, driver, urls } = options;

  async function bucketNamed(name: string): Promise<Bucket> {
    const bucket = await findBucket(database, name);
    if (!bucket)
      throw new HttpError('not_found', `There is no bucket named ${name}; create it first.`, { field: 'bucket' });
    return bucket;
  }

  // Bytes pass through this server on local disk, and go straight to the storage service on S3:
  // a route of the other kind is a 409 saying where the bytes go.
  function localDriver(): LocalStorageDriver {
    if (driver.kind === 'local') return driver;
    throw new HttpError(
      'conflict',
      'This server keeps objects on S3: send the bytes to the storage service URL the grant gave (ask part-urls for parts), not to the Plinth server.',
    );
  }
  function s3Driver(): S3StorageDriver {
    if (driver.kind === 's3') return driver;
    throw new HttpError(
      'conflict',
      'This upload goes to the Plinth server, which checks it when its PUT answers; there is nothing to complete.',
    );
  }

  async function info(bucket: string, key: string): Promise<ObjectInfo> {
    await bucketNamed(bucket);
    const [row] = await database.query<ObjectRow>(
      `SELECT ${objectColumns} FROM plinth.storage_objects WHERE bucket = $1 AND key = $2`,
      [bucket, key],
    );
    if (!row) throw new HttpError('not_found', `There is no object ${key} in bucket ${bucket}.`, { field: 'key' });
    return objectOf(row);
  }

  /**
   * Moves or copies an object to `to`, checked against the destination bucket's types and size
   * cap. A move keeps the bytes and changes the row; a copy writes the bytes again under a blob
   * of its own, so removing one never removes the other's.
   */
  async function relocate(
    from: { bucket: string; key: string },
    to: { bucket: string; key: string },
    how: 'move' | 'copy',
  ): Promise<ObjectInfo> {
    const destination = await bucketNamed(to.bucket);
    const source = await locateObject(from.bucket, from.key);
    const { object } = source;
    if (destination.allowedContentTypes.length > 0 && !destination.allowedContentTypes.includes(object.contentType)) {
      throw new HttpError(
        'validation_failed',
        `toBucket: bucket ${destination.name} does not take ${object.contentType}.`,
        { field: 'toBucket' },
      );
    }
    if (object.size > destination.maxObjectBytes) {
      throw new HttpError(
        'validation_failed',
        `toBucket: the object is ${object.size} bytes, over bucket ${destination.name}'s limit of ${destination.maxObjectBytes}.`,
        { field: 'toBucket' },
      );
    }
    let blob = source.blob;
    if (how === 'copy') {
      blob = `${to.bucket}/${randomUUID()}`;
      await driver.copy(source.blob, blob);
    }
    try {
      return await database.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`plinth.storage:${to.bucket}/${to.key}`]);
        const [written] = await tx.query<ObjectRow>(
          how === 'move'
            ? `UPDATE plinth.storage_objects SET bucket = $3, key = $4, updated_at = now()
                WHERE bucket = $1 AND key = $2 AND blob = $5
                  AND NOT EXISTS (SELECT 1 FROM plinth.storage_objects WHERE bucket = $3 AND key = $4)
                RETURNING ${objectColumns}`
            : `INSERT INTO plinth.storage_objects (bucket, key, size, content_type, sha256, etag, owner, metadata, blob)
               SELECT $3, $4, size, content_type, sha256, etag, owner, metadata, $5
                 FROM plinth.storage_objects WHERE bucket = $1 AND key = $2
               ON CONFLICT (bucket, key) DO NOTHING
               RETURNING ${objectColumns}`,
          [from.bucket, from.key, to.bucket, to.key, how === 'move' ? source.blob : blob],
        );
        if (!written) {
          throw new HttpError(
            'conflict',
            `There is already an object ${to.key} in bucket ${to.bucket}; remove it first.`,
            {
              field: 'to',
            },
          );
        }
        const moved = objectOf(written);
        await publishEvents(tx, [
          ...(how === 'move'
            ? [{ channel: `storage:${from.bucket}`, type: 'object.deleted', payload: { object } }]
            : []),
          { channel: `storage:${to.bucket}`, type: 'object.created', payload: { object: moved } },
        ]);
        return moved;
      });
    } catch (error) {
      if (how === 'copy') await driver.remove(blob).catch(() => undefined);
      throw error;
    }
  }

  async function locateObject(bucket: string, key: string, publicOnly = false) {
    const [row] = await database.query<ObjectRow>(
      `SELECT ${qualifiedObjectColumns} FROM plinth.storage_objects o
         JOIN plinth.storage_buckets b ON b.name = o.bucket
        WHERE o.bucket = $1 AND o.key = $2 AND (b.public OR NOT $3)`,
      [bucket, key, publicOnly],
    );
    if (!row) throw new HttpError('not_found', `There is no object ${key} in bucket ${bucket}.`, { field: 'key' });
    return { object: objectOf(row), blob: row.blob };
  }

  /** The grant under `uploadId`, of `kind`; a 404 when there is none. */
  async function grantRow(uploadId: string, kind: GrantRow['kind']): Promise<GrantRow> {
    const [row] = await database.query<GrantRow>(`SELECT ${grantColumns} FROM plinth.storage_uploads WHERE id = $1`, [
      uploadId,
    ]);
    if (!row || row.kind !== kind)
      throw new HttpError('not_found', 'No upload was granted under this URL; ask your server for one.');
    return row;
  }

  /** Why a grant cannot take bytes now. */
  function unusable(row: Pick<GrantRow, 'state' | 'expires_at'>): HttpError {
    if (row.state === 'uploading')
      return new HttpError(
        'conflict',
        'This upload URL is being used by another request right now; it takes one upload.',
      );
    if (row.state !== 'pending')
      return new HttpError(
        'permission_denied',
        'This upload URL was already used; each takes one upload. Ask your server for a new one.',
      );
    return new HttpError(
      'permission_denied',
      `This upload URL expired at ${iso(row.expires_at)}. Ask your server for a new one.`,
    );
  }

  /**
   * Claims the grant for this one request (an upload, or a completion), or says why it cannot be
   * used. A grant another request holds is waited for, briefly (see `claimWaitMs`).
   */
  async function claim(uploadId: string, kind: GrantRow['kind']): Promise<GrantRow> {
    const deadline = Date.now() + claimWaitMs;
    for (;;) {
      const [claimed] = await database.query<GrantRow>(
        `UPDATE plinth.storage_uploads SET state = 'uploading'
          WHERE id = $1 AND kind = $2 AND state = 'pending' AND expires_at > now()
          RETURNING ${grantColumns}`,
        [uploadId, kind],
      );
      if (claimed) return claimed;
      const row = await grantRow(uploadId, kind);
      // Still held, or released between the two queries (pending, unexpired): try again.
      const again =
        row.state === 'uploading' || (row.state === 'pending' && new Date(row.expires_at).getTime() > Date.now());
      if (!again || Date.now() >= deadline) throw unusable(row);
      await sleep(claimPollMs);
    }
  }

  /** A multipart grant that can still take parts. */
  async function openMultipart(uploadId: string): Promise<GrantRow> {
    const grant = await grantRow(uploadId, 'multipart');
    if (grant.state !== 'pending' || !(new Date(grant.expires_at).getTime() > Date.now())) throw unusable(grant);
    return grant;
  }

  /** Ends a multipart upload: its parts' bytes and rows go; the grant keeps its final state. */
  async function endMultipart(grant: GrantRow, state: 'committed' | 'refused'): Promise<void> {
    const uploadId = grant.id;
    // S3: a committed upload's parts were joined (CompleteMultipartUpload) and are gone already.
    if (driver.kind === 's3' && grant.driver_upload_id !== null && state === 'refused') {
      await driver.abortMultipart(driver.stagingKey(uploadId), grant.driver_upload_id);
      await driver.remove(driver.stagingKey(uploadId));
    }
    const parts = await database.transaction(async (tx) => {
      await tx.query(
        `UPDATE plinth.storage_uploads SET state = $2, finished_at = now() WHERE id = $1 AND state <> 'committed'`,
        [uploadId, state],
      );
      return tx.query<{ blob: string }>('DELETE FROM plinth.storage_upload_parts WHERE upload_id = $1 RETURNING blob', [
        uploadId,
      ]);
    });
    for (const part of parts) await driver.remove(part.blob);
  }

  /** The parts' bytes, one after another. */
  async function* joined(parts: readonly { partNumber: number; ref: string }[]): AsyncIterable<Uint8Array> {
    for (const part of parts) {
      const bytes = await driver.read(part.ref);
      if (!bytes) throw new Error(`part ${part.partNumber} has no bytes`);
      yield* bytes;
    }
  }

  /** A 400 naming `field` unless `partNumber` is one the grant's size allows. */
  function checkPartNumber(grant: GrantRow, partNumber: number, field: string): void {
    const partSize = Number(grant.part_size);
    const most = Math.ceil(Number(grant.max_bytes) / partSize);
    if (partNumber > most) {
      throw new HttpError(
        'validation_failed',
        `${field}: this upload takes at most ${most} parts of ${partSize} bytes.`,
        { field },
      );
    }
  }

  /** `path` as a URL under the server's public URL. */
  function absolute(path: string): string {
    const base = options.publicUrl();
    if (base === undefined) throw new Error('the server does not know its public URL yet');
    return new URL(path, base).href;
  }

  /** The declared type must be a MIME type the grant allows. */
  function checkDeclaredType(grant: GrantRow, declared: string, name: string, field: string): void {
    // The protocol's rule for content types, for one that arrives in a header.
    if (!contentType.safeParse(declared).success) {
      throw new HttpError(
        'validation_failed',
        `${name} must be a MIME type such as image/png; send the file’s real type.`,
        {
          field,
        },
      );
    }
    if (grant.content_types.length > 0 && !grant.content_types.includes(declared)) {
      throw new HttpError(
        'validation_failed',
        `${name} ${declared} is not allowed by this upload URL; it takes ${grant.content_types.join(', ')}.`,
        { field, allowed: grant.content_types },
      );
    }
  }

  const tooLarge = (limit: number) =>
    new HttpError('payload_too_large', `The upload is over this URL's ${limit}-byte limit.`, { field: 'body', limit });

  /** A declared `Content-Length` over the limit is refused before a byte is read. */
  function checkDeclaredLength(contentLength: string | undefined, limit: number): void {
    if (contentLength !== undefined && Number(contentLength) > limit) throw tooLarge(limit);
  }

  /** Streams `body` to staging (local disk), or reads back what was staged (S3): a 413 past `limit`. */
  async function stageWithin(
    body: AsyncIterable<Uint8Array> | { grant: GrantRow },
    limit: number,
  ): Promise<StagedObject | undefined> {
    try {
      if (!('grant' in body)) return await localDriver().stage(body, { maxBytes: limit });
      const s3 = s3Driver();
      return await s3.inspect(s3.stagingKey(body.grant.id), limit);
    } catch (error) {
      throw error instanceof ObjectTooLargeError ? tooLarge(limit) : error;
    }
  }

  /** The parts of a multipart upload as the server (local disk) or the storage service (S3) has them. */
  async function partsOf(grant: GrantRow): Promise<(UploadPart & { ref: string })[] | undefined> {
    if (driver.kind === 'local') {
      const rows = await database.query<PartRow>(
        'SELECT part_number, size, sha256, blob FROM plinth.storage_upload_parts WHERE upload_id = $1 ORDER BY part_number',
        [grant.id],
      );
      return rows.map((row) => ({ ...partOf(row), ref: row.blob }));
    }
    if (grant.driver_upload_id === null) return [];
    const parts = await driver.listParts(driver.stagingKey(grant.id), grant.driver_upload_id);
    return parts?.map((part) => ({ partNumber: part.partNumber, size: part.size, ref: part.etag }));
  }

  /**
   * Makes the checked bytes the object the grant names: moved under a driver key of their own,
   * then the row, the grant's end and the event in one transaction; the bytes it replaced are
   * removed after.
   */
  async function commitObject(grant: GrantRow, declared: string, staged: StagedObject): Promise<ObjectInfo> {
    const blob = `${grant.bucket}/${grant.id}`;
    let committed: { row: ObjectInfo; replaced: string | undefined };
    try {
      await staged.commit(blob);
      committed = await database.transaction(async (tx) => {
        // Writers of one key take turns: a row another upload is inserting right now is not
        // visible to FOR UPDATE, and the version it replaces would never be removed.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`plinth.storage:${grant.bucket}/${grant.key}`]);
        const [previous] = await tx.query<{ blob: string }>(
          'SELECT blob FROM plinth.storage_objects WHERE bucket = $1 AND key = $2',
          [grant.bucket, grant.key],
        );
        const [written] = await tx.query<ObjectRow>(
          `INSERT INTO plinth.storage_objects (bucket, key, size, content_type, sha256, etag, owner, metadata, blob)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9)
           ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, content_type = excluded.content_type,
             sha256 = excluded.sha256, etag = excluded.etag, owner = excluded.owner, metadata = excluded.metadata,
             blob = excluded.blob, updated_at = now()
           RETURNING ${objectColumns}`,
          [
            grant.bucket,
            grant.key,
            staged.size,
            declared,
            staged.sha256,
            `"${staged.sha256.slice(0, 32)}"`,
            grant.owner,
            JSON.stringify(json(grant.metadata)),
            blob,
          ],
        );
        await tx.query("UPDATE plinth.storage_uploads SET state = 'committed', finished_at = now() WHERE id = $1", [
          grant.id,
        ]);
        const object = objectOf(written as ObjectRow);
        await publishEvent(tx, `storage:${grant.bucket}`, 'object.created', { object });
        return { row: object, replaced: previous?.blob };
      });
    } catch (error) {
      await driver.remove(blob).catch(() => undefined);
      await release(grant.id, 'pending').catch(() => undefined);
      throw error;
    }
    const { row, replaced } = committed;
    // The old bytes are no longer any object's: removed after the commit that replaced them, and
    // outside the try above, whose cleanup would remove the bytes just committed.
    if (replaced !== undefined && replaced !== blob) await driver.remove(replaced).catch(leftBehindWhenDown);
    return row;
  }

  /** Inserts a grant after checking it against its bucket: types, sizes, expiry. */
  async function insertGrant(
    request: GrantRequest,
    how: { kind: GrantRow['kind']; partSize?: number; defaultSeconds: number },
  ): Promise<{ grant: GrantRow; expiresAt: Date }> {
    const bucket = await bucketNamed(request.bucket);
    const contentTypes = [...new Set(request.contentTypes ?? bucket.allowedContentTypes)];
    const refused = bucket.allowedContentTypes.length
      ? contentTypes.filter((type) => !bucket.allowedContentTypes.includes(type))
      : [];
    if (refused.length > 0) {
      throw new HttpError(
        'validation_failed',
        `contentTypes: bucket ${bucket.name} does not allow ${refused.join(', ')}; it allows ${bucket.allowedContentTypes.join(', ')}.`,
        { field: 'contentTypes' },
      );
    }
    const maxBytes = request.maxBytes ?? bucket.maxObjectBytes;
    if (maxBytes > bucket.maxObjectBytes) {
      throw new HttpError(
        'validation_failed',
        `maxBytes: ${maxBytes} is over bucket ${bucket.name}'s limit of ${bucket.maxObjectBytes} bytes.`,
        { field: 'maxBytes' },
      );
    }
    // Checked bytes are copied into place with one CopyObject, which S3 allows up to 5 GiB.
    if (driver.kind === 's3' && maxBytes > s3MaxCopyBytes) {
      throw new HttpError(
        'validation_failed',
        `maxBytes: this server keeps objects on S3, where an upload can be at most ${s3MaxCopyBytes} bytes (5 GiB); give a smaller maxBytes.`,
        { field: 'maxBytes' },
      );
    }
    const minBytes = request.minBytes ?? 0;
    if (minBytes > maxBytes) {
      throw new HttpError('validation_failed', `minBytes: ${minBytes} is over maxBytes (${maxBytes}).`, {
        field: 'minBytes',
      });
    }
    const expiresAt = new Date(Date.now() + (request.expiresIn ?? how.defaultSeconds) * 1000);
    const [grant] = await database.query<GrantRow>(
      `INSERT INTO plinth.storage_uploads
         (id, bucket, key, content_types, min_bytes, max_bytes, owner, metadata, expires_at, kind, part_size)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8::text::jsonb, $9, $10, $11)
       RETURNING ${grantColumns}`,
      [
        randomUUID(),
        bucket.name,
        request.key,
        contentTypes,
        minBytes,
        maxBytes,
        request.userId ?? null,
        JSON.stringify(request.metadata ?? {}),
        expiresAt.toISOString(),
        how.kind,
        how.partSize ?? null,
      ],
    );
    return { grant: grant as GrantRow, expiresAt };
  }

  const release = (uploadId: string, state: 'pending' | 'refused') =>
    database.query(
      `UPDATE plinth.storage_uploads SET state = $2, finished_at = CASE WHEN $2 = 'refused' THEN now() END
        WHERE id = $1 AND state = 'uploading'`,
      [uploadId, state],
    );

  /** The checks an upload's bytes must pass before they may become an object. */
  function verify(grant: GrantRow, declared: string, staged: StagedObject, digest: string | undefined): void {
    const minBytes = Number(grant.min_bytes);
    if (staged.size < minBytes) {
      throw new HttpError(
        'validation_failed',
        `The upload is ${staged.size} bytes; this URL needs at least ${minBytes}.`,
        { field: 'body', minBytes },
      );
    }
    if (digest !== undefined && digest !== staged.sha256) {
      throw new HttpError(
        'validation_failed',
        'The bytes that arrived do not match the Content-Digest sent with them: the upload was changed or cut on the way. Send it again.',
        { field: 'content-digest' },
      );
    }
    const sniffed = sniffContentType(staged.head);
    if (!contentTypeMatches(declared, sniffed)) {
      throw new HttpError(
        'validation_failed',
        `The upload was declared ${declared}, but its bytes are ${sniffed ?? 'not that type'}. Send the file with its real content type.`,
        { field: 'content-type', declared, ...(sniffed ? { sniffed } : {}) },
      );
    }
  }

  return {
    driver,
    urls,

    createBucket: (request) => createBucket(database, request),
    listBuckets: () => listBuckets(database),

    async createUploadUrl(request) {
      const { grant, expiresAt } = await insertGrant(request, { kind: 'single', defaultSeconds: defaultGrantSeconds });
      if (driver.kind === 's3') {
        // One allowed type is fixed in the policy; with several (or any) the type is checked on completion.
        const [only] = grant.content_types.length === 1 ? grant.content_types : [];
        const { url, fields } = driver.postPolicy({
          key: driver.stagingKey(grant.id),
          contentType: only,
          minBytes: Number(grant.min_bytes),
          maxBytes: Number(grant.max_bytes),
          expiresAt,
        });
        return {
          url,
          method: 'POST',
          headers: {},
          fields,
          completeUrl: absolute(urls.sign('POST', `/v1/storage/uploads/${grant.id}/complete`, {}, expiresAt)),
          expiresAt: expiresAt.toISOString(),
          uploadId: grant.id,
        };
      }
      return {
        url: absolute(urls.sign('PUT', `/v1/storage/uploads/${grant.id}`, {}, expiresAt)),
        method: 'PUT',
        headers: grant.content_types.length === 1 ? { 'content-type': grant.content_types[0] as string } : {},
        expiresAt: expiresAt.toISOString(),
        uploadId: grant.id,
      };
    },

    async upload(uploadId, headers, body) {
      localDriver();
      const grant = await claim(uploadId, 'single');
      const declared = bareType(headers.contentType ?? 'application/octet-stream');
      const maxBytes = Number(grant.max_bytes);
      let staged: StagedObject | undefined;
      try {
        checkDeclaredType(grant, declared, 'Content-Type', 'content-type');
        const digest = digestOf(headers.contentDigest);
        checkDeclaredLength(headers.contentLength, maxBytes);
        try {
          staged = (await stageWithin(body, maxBytes)) as StagedObject;
        } catch (error) {
          // The connection was cut: nothing was kept, and the URL may be used again until it expires.
          if (!(error instanceof HttpError)) await release(uploadId, 'pending');
          throw error;
        }
        verify(grant, declared, staged, digest);
      } catch (error) {
        await staged?.discard();
        if (error instanceof HttpError) await release(uploadId, 'refused');
        throw error;
      }
      return commitObject(grant, declared, staged);
    },

    async completeUpload(uploadId, sent = {}) {
      const s3 = s3Driver();
      const grant = await claim(uploadId, 'single');
      let staged: InspectedObject | undefined;
      try {
        staged = (await stageWithin({ grant }, Number(grant.max_bytes))) as InspectedObject | undefined;
      } catch (error) {
        // Over the size limit: refused, and the bytes go; the service failing: try again later.
        if (refuses(error)) {
          await s3.remove(s3.stagingKey(uploadId));
          await release(uploadId, 'refused');
        } else await release(uploadId, 'pending');
        throw error;
      }
      if (staged === undefined) {
        await release(uploadId, 'pending');
        throw new HttpError(
          'conflict',
          'Nothing was uploaded under this grant yet: send the file to its url first, then complete it.',
        );
      }
      if (sent.size !== undefined && staged.size !== sent.size) {
        // Fewer bytes than were sent: the upload was cut on the way, not refused; it may be sent again.
        await staged.discard();
        await release(uploadId, 'pending');
        throw new HttpError(
          'conflict',
          `The storage service holds ${staged.size} bytes of the ${sent.size} sent: the upload was cut on the way. Send it again with the same grant, then complete it.`,
          { field: 'size' },
        );
      }
      const declared = bareType(staged.contentType);
      try {
        checkDeclaredType(grant, declared, 'Content-Type', 'content-type');
        verify(grant, declared, staged, sent.sha256);
      } catch (error) {
        await staged.discard();
        await release(uploadId, 'refused');
        throw error;
      }
      return commitObject(grant, declared, staged);
    },

    async createMultipartUpload(request) {
      if (driver.kind === 's3' && (request.partSize ?? defaultPartSize) < s3MinPartSize) {
        throw new HttpError(
          'validation_failed',
          `partSize: this server keeps objects on S3, whose parts (all but the last) are at least ${s3MinPartSize} bytes; ask for larger parts.`,
          { field: 'partSize' },
        );
      }
      const { grant, expiresAt } = await insertGrant(request, {
        kind: 'multipart',
        partSize: request.partSize ?? defaultPartSize,
        defaultSeconds: defaultMultipartSeconds,
      });
      const maxParts = Math.ceil(Number(grant.max_bytes) / Number(grant.part_size));
      if (maxParts > partSizeLimits.count) {
        await database.query('DELETE FROM plinth.storage_uploads WHERE id = $1', [grant.id]);
        throw new HttpError(
          'validation_failed',
          `partSize: maxBytes would take ${maxParts} parts of ${grant.part_size} bytes, over ${partSizeLimits.count}; choose larger parts.`,
          { field: 'partSize' },
        );
      }
      if (driver.kind === 's3') {
        try {
          const id = await driver.createMultipart(driver.stagingKey(grant.id));
          await database.query('UPDATE plinth.storage_uploads SET driver_upload_id = $2 WHERE id = $1', [grant.id, id]);
        } catch (error) {
          await database.query('DELETE FROM plinth.storage_uploads WHERE id = $1', [grant.id]);
          throw error;
        }
      }
      return {
        url: absolute(urls.sign(multipartMethod, multipartPath(grant.id), {}, expiresAt)),
        uploadId: grant.id,
        partSize: Number(grant.part_size),
        expiresAt: expiresAt.toISOString(),
        contentTypes: grant.content_types,
      };
    },

    async partUrls(uploadId, numbers) {
      const grant = await openMultipart(uploadId);
      for (const partNumber of numbers) checkPartNumber(grant, partNumber, 'parts');
      const expiresAt = new Date(grant.expires_at);
      // Local disk: the upload's own URL, its path extended (the signature covers every
      // multipart route), signed once for all the parts asked for.
      const own =
        driver.kind === 'local' ? absolute(urls.sign(multipartMethod, multipartPath(uploadId), {}, expiresAt)) : '';
      const parts = [];
      for (const partNumber of new Set(numbers)) {
        let url: string;
        if (driver.kind === 's3') {
          url = await driver.partUrl(
            driver.stagingKey(uploadId),
            grant.driver_upload_id as string,
            partNumber,
            expiresAt,
          );
        } else {
          const signed = new URL(own);
          signed.pathname += `/parts/${partNumber}`;
          url = signed.href;
        }
        parts.push({ partNumber, url, headers: {} });
      }
      return { parts };
    },

    async uploadPart(uploadId, partNumber, headers, body) {
      localDriver();
      const grant = await openMultipart(uploadId);
      const partSize = Number(grant.part_size);
      checkPartNumber(grant, partNumber, 'partNumber');
      const digest = digestOf(headers.contentDigest);
      checkDeclaredLength(headers.contentLength, partSize);
      const staged = (await stageWithin(body, partSize)) as StagedObject;
      // Each attempt at a part is kept apart, so one sent again never overwrites bytes a
      // completion may be reading.
      const blob = `.multipart/${uploadId}/${partNumber}-${randomUUID()}`;
      try {
        if (staged.size === 0)
          throw new HttpError('validation_failed', 'A part must have at least one byte.', { field: 'body' });
        if (digest !== undefined && digest !== staged.sha256) {
          throw new HttpError(
            'validation_failed',
            'The part that arrived does not match its Content-Digest; send it again.',
            { field: 'content-digest' },
          );
        }
        await staged.commit(blob);
        const replaced = await database.transaction(async (tx) => {
          const [open] = await tx.query(
            "SELECT 1 FROM plinth.storage_uploads WHERE id = $1 AND state = 'pending' AND expires_at > now() FOR UPDATE",
            [uploadId],
          );
          if (!open) throw new HttpError('conflict', 'This upload is being completed or has ended; no more parts.');
          const [previous] = await tx.query<{ blob: string }>(
            'SELECT blob FROM plinth.storage_upload_parts WHERE upload_id = $1 AND part_number = $2',
            [uploadId, partNumber],
          );
          await tx.query(
            `INSERT INTO plinth.storage_upload_parts (upload_id, part_number, size, sha256, blob) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
               blob = excluded.blob, created_at = now()`,
            [uploadId, partNumber, staged.size, staged.sha256, blob],
          );
          return previous?.blob;
        });
        if (replaced !== undefined) await driver.remove(replaced);
        return { partNumber, size: staged.size, sha256: staged.sha256 };
      } catch (error) {
        await staged.discard();
        await driver.remove(blob).catch(() => undefined);
        throw error;
      }
    },

    async listParts(uploadId) {
      const grant = await grantRow(uploadId, 'multipart');
      // An ended upload has no parts left (S3 forgets them when they are joined or aborted).
      const parts = grant.state === 'pending' || grant.state === 'uploading' ? await partsOf(grant) : [];
      return {
        parts: (parts ?? []).map(({ ref: _, ...part }) => part),
        partSize: Number(grant.part_size),
        state: grant.state,
      };
    },

    async completeMultipartUpload(uploadId, request) {
      const grant = await claim(uploadId, 'multipart');
      const declared = request.contentType;
      const maxBytes = Number(grant.max_bytes);
      let parts: (UploadPart & { ref: string })[] | undefined;
      try {
        checkDeclaredType(grant, declared, 'contentType', 'contentType');
        // Undefined on S3 once it joined the parts: a completion cut off after that finds them joined.
        parts = await partsOf(grant);
        if (parts !== undefined) parts = wholeParts(parts, request.parts, Number(grant.part_size));
      } catch (error) {
        // Missing or short parts can be sent and the upload completed again.
        await release(uploadId, 'pending');
        throw error;
      }
      let staged: StagedObject | undefined;
      try {
        if (driver.kind === 's3') {
          const key = driver.stagingKey(uploadId);
          if (parts !== undefined) {
            const stored = parts.map((part) => ({ partNumber: part.partNumber, size: part.size, etag: part.ref }));
            await driver.completeMultipart(key, grant.driver_upload_id as string, stored);
          }
          staged = await stageWithin({ grant }, maxBytes);
          if (staged === undefined) {
            throw new HttpError(
              'conflict',
              'The storage service has neither the parts nor the joined object of this upload any more; start the upload again.',
            );
          }
        } else {
          staged = await stageWithin(joined(parts ?? []), maxBytes);
        }
        verify(grant, declared, staged as StagedObject, request.sha256);
      } catch (error) {
        await staged?.discard();
        if (refuses(error)) await endMultipart(grant, 'refused');
        else await release(uploadId, 'pending');
        throw error;
      }
      const object = await commitObject(grant, declared, staged as StagedObject);
      await endMultipart(grant, 'committed');
      return object;
    },

    async abortMultipartUpload(uploadId) {
      const grant = await grantRow(uploadId, 'multipart');
      if (grant.state === 'committed')
        throw new HttpError('conflict', 'This upload was completed; remove the object instead.');
      if (grant.state === 'uploading') throw new HttpError('conflict', 'This upload is being completed right now.');
      await endMultipart(grant, 'refused');
      return { aborted: grant.state === 'pending' };
    },

    verifyUrl(route, url) {
      if (!route.path.startsWith(multipartRoot)) return urls.verify(route.method, url);
      // Every multipart route takes the upload's one URL: the signature covers its path up to the upload id.
      const signed = new URL(url);
      signed.pathname = url.pathname.split('/').slice(0, 5).join('/');
      urls.verify(multipartMethod, signed);
    },

    info,

    async createDownloadUrl(bucket, key, { expiresIn, download }) {
      await info(bucket, key);
      const expiresAt = new Date(Date.now() + (expiresIn ?? defaultGrantSeconds) * 1000);
      const path = urls.sign(
        'GET',
        `/v1/storage/objects/${bucket}`,
        { key, ...(download === undefined ? {} : { download }) },
        expiresAt,
      );
      return { url: absolute(path), expiresAt: expiresAt.toISOString() };
    },

    locate: (bucket, key, { publicOnly = false } = {}) => locateObject(bucket, key, publicOnly),

    async remove(bucket, keys) {
      await bucketNamed(bucket);
      const removed = await database.transaction(async (tx) => {
        const rows = await tx.query<ObjectRow>(
          `DELETE FROM plinth.storage_objects WHERE bucket = $1 AND key = ANY($2::text[]) RETURNING ${objectColumns}`,
          [bucket, [...new Set(keys)]],
        );
        await publishEvents(
          tx,
          rows.map((row) => ({
            channel: `storage:${bucket}`,
            type: 'object.deleted',
            payload: { object: objectOf(row) },
          })),
        );
        return rows;
      });
      for (const row of removed) await driver.remove(row.blob).catch(leftBehindWhenDown);
      return removed.map((row) => row.key).sort();
    },

    async list(bucket, { prefix = '', delimiter, limit = 100, cursor }) {
      await bucketNamed(bucket);
      let after = cursor === undefined ? '' : cursorKey(cursor);
      const objects: ObjectInfo[] = [];
      const prefixes: string[] = [];
      const full = () => objects.length + prefixes.length >= limit;
      // Byte order (COLLATE "C"), so a folder's keys are contiguous and the first key past a
      // folder is the folder followed by the highest character.
      while (!full()) {
        const rows = await database.query<ObjectRow>(
          `SELECT ${objectColumns} FROM plinth.storage_objects
            WHERE bucket = $1 AND starts_with(key, $2) AND key COLLATE "C" > $3
            ORDER BY key COLLATE "C" LIMIT $4`,
          [bucket, prefix, after, limit - objects.length - prefixes.length],
        );
        if (rows.length === 0) return { objects, prefixes, nextCursor: null };
        for (const row of rows) {
          const folder = delimiter === undefined ? -1 : row.key.indexOf(delimiter, prefix.length);
          if (folder >= 0) {
            const name = row.key.slice(0, folder + (delimiter as string).length);
            prefixes.push(name);
            after = `${name}\u{10FFFF}`;
            break;
          }
          objects.push(objectOf(row));
          after = row.key;
        }
      }
      const [more] = await database.query(
        'SELECT 1 FROM plinth.storage_objects WHERE bucket = $1 AND starts_with(key, $2) AND key COLLATE "C" > $3 LIMIT 1',
        [bucket, prefix, after],
      );
      return { objects, prefixes, nextCursor: more ? Buffer.from(after).toString('base64url') : null };
    },

    move: (from, to) => relocate(from, to, 'move'),
    copy: (from, to) => relocate(from, to, 'copy'),

    async sweep() {
      if (driver.kind === 's3') {
        const expired = await database.query<{ id: string; driver_upload_id: string }>(
          `SELECT id, driver_upload_id FROM plinth.storage_uploads
            WHERE driver_upload_id IS NOT NULL AND state IN ('pending', 'uploading', 'refused')
              AND expires_at < now() - interval '1 hour'`,
        );
        for (const grant of expired) await driver.abortMultipart(driver.stagingKey(grant.id), grant.driver_upload_id);
      }
      // Parts of multipart uploads that expired unfinished: their bytes first, then the grants.
      const parts = await database.query<{ blob: string }>(
        `DELETE FROM plinth.storage_upload_parts p USING plinth.storage_uploads u
          WHERE p.upload_id = u.id AND u.state IN ('pending', 'uploading', 'refused')
            AND u.expires_at < now() - interval '1 hour'
          RETURNING p.blob`,
      );
      for (const part of parts) await driver.remove(part.blob);
      const grants = await database.query(
        `DELETE FROM plinth.storage_uploads
          WHERE state IN ('pending', 'uploading', 'refused') AND expires_at < now() - interval '1 hour'
          RETURNING id`,
      );
      const staged = await driver.sweepStaging(24 * 60 * 60 * 1000);
      return { grants: grants.length, staged };
    },
  };
}
