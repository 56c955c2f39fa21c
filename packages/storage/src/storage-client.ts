import { type CallOptions, callAs, type Transport } from '@plinth/core';
import {
  type Bucket,
  copyObjectRoute,
  createBucketRoute,
  createDownloadUrlRoute,
  createMultipartUploadRoute,
  createUploadUrlRoute,
  getObjectInfoRoute,
  listBucketsRoute,
  listObjectsRoute,
  type MultipartGrant,
  moveObjectRoute,
  type ObjectInfo,
  removeObjectsRoute,
  type UploadGrant,
} from '@plinth/protocol';

/** What a new bucket allows. */
export interface CreateBucketOptions {
  /** 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit. */
  name: string;
  /** Default false. */
  public?: boolean | undefined;
  /** Lowercase MIME types such as `image/png`; empty or left out: any type. */
  allowedContentTypes?: string[] | undefined;
  /** The most bytes one object may have. Default 50 MiB. */
  maxObjectBytes?: number | undefined;
}

/** What one upload URL fixes, within its bucket's limits. */
export interface UploadUrlOptions {
  /** The types the upload may declare: a subset of the bucket's. Default: the bucket's. */
  contentTypes?: string[] | undefined;
  /** Default 0. */
  minBytes?: number | undefined;
  /** Default (and at most) the bucket's `maxObjectBytes`. */
  maxBytes?: number | undefined;
  /** Seconds until the URL expires: default 600, at most 7 days. */
  expiresIn?: number | undefined;
  /** The user (UUID) the upload is for, recorded as the object's owner. */
  userId?: string | undefined;
  /** Small string metadata kept with the object: at most 32 entries. */
  metadata?: Record<string, string> | undefined;
}

/** What a grant for an upload in parts fixes: as an upload URL's, plus the part size. */
export interface MultipartUploadOptions extends UploadUrlOptions {
  /**
   * Bytes per part, every part but the last: 64 KiB to 64 MiB, default 8 MiB. The object may
   * have at most 10 000 parts, so `maxBytes` must fit in 10 000 of them.
   */
  partSize?: number | undefined;
  /** Seconds until the URL expires: default 3600 (an hour) here, at most 7 days. */
  expiresIn?: number | undefined;
}

/** The calls on one bucket. Each needs the service key. */
export interface BucketClient {
  /**
   * A signed, single-use URL for one upload to `key`: hand the grant to the browser, which sends
   * the bytes with `uploadToUrl(grant, file)`, with no key of its own.
   */
  createUploadUrl(key: string, options?: UploadUrlOptions, callOptions?: CallOptions): Promise<UploadGrant>;
  /**
   * A signed URL for one upload to `key` sent in parts: hand the grant to the browser, which
   * sends the file with `uploadLarge(grant, file)` and, after a cut or a reload, resumes by
   * calling it again with the same grant. Keep the grant with the upload (your database, by the
   * user and the file) to hand it out again: its URL carries the signature, so the upload id
   * alone cannot resume it.
   *
   * @example
   * ```ts
   * const grant = await storage.from('videos').createMultipartUpload(`${user.id}/talk.mp4`, {
   *   contentTypes: ['video/mp4'],
   *   maxBytes: 5 * 1024 ** 3,
   *   partSize: 16 * 1024 * 1024,
   *   expiresIn: 24 * 3600,
   *   userId: user.id,
   * });
   * return Response.json(grant); // to the browser, which calls uploadLarge(grant, file)
   * ```
   */
  createMultipartUpload(
    key: string,
    options?: MultipartUploadOptions,
    callOptions?: CallOptions,
  ): Promise<MultipartGrant>;
  /** One object's size, type, SHA-256, owner and metadata; a `NotFoundError` when there is none. */
  info(key: string, callOptions?: CallOptions): Promise<ObjectInfo>;
  /** Removes objects by key (up to 1 000 at once); resolves to the keys that were there, sorted. */
  remove(keys: string | string[], callOptions?: CallOptions): Promise<string[]>;
  /**
   * A signed URL that reads one object until it expires (default 10 minutes, at most 7 days);
   * `download` makes browsers save it under that name.
   */
  createDownloadUrl(
    key: string,
    options?: { expiresIn?: number | undefined; download?: string | undefined },
    callOptions?: CallOptions,
  ): Promise<{ url: string; expiresAt: string }>;
  /**
   * Objects by key in byte order, under `prefix`, with "folders" grouped at `delimiter` (usually
   * `/`); pass `nextCursor` back for the next page.
   */
  list(
    options?: {
      prefix?: string | undefined;
      delimiter?: string | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    },
    callOptions?: CallOptions,
  ): Promise<{ objects: ObjectInfo[]; prefixes: string[]; nextCursor: string | null }>;
  /** Gives an object another key (in `toBucket`, if given); a `ConflictError` if `to` is taken. */
  move(
    from: string,
    to: string,
    options?: { toBucket?: string | undefined },
    callOptions?: CallOptions,
  ): Promise<ObjectInfo>;
  /** A second object with the same bytes under `to` (in `toBucket`, if given); a `ConflictError` if taken. */
  copy(
    from: string,
    to: string,
    options?: { toBucket?: string | undefined },
    callOptions?: CallOptions,
  ): Promise<ObjectInfo>;
  /** The URL anyone can read `key` at, if this bucket is public (no request is made). */
  publicUrl(key: string): string;
}

/** Storage management, for your server. Each call needs the service key. */
export interface StorageClient {
  createBucket(options: CreateBucketOptions, callOptions?: CallOptions): Promise<Bucket>;
  /** Every bucket, by name. */
  listBuckets(callOptions?: CallOptions): Promise<Bucket[]>;
  /** The calls on one bucket. */
  from(bucket: string): BucketClient;
}

/**
 * Storage management over a transport with the service key: buckets, upload URLs for browsers,
 * object info and removal. Each method throws `MissingServiceKeyError` synchronously, before any
 * request, on a transport without the service key: these calls belong on your server. A browser
 * sends bytes with {@link uploadToUrl} and the grant your server made for it.
 *
 * @example
 * ```ts
 * import { createTransport } from '@plinth/core';
 * import { createStorageClient } from '@plinth/storage';
 *
 * const storage = createStorageClient(createTransport({ url, serviceKey: process.env.PLINTH_SERVICE_KEY }));
 * await storage.createBucket({ name: 'avatars', allowedContentTypes: ['image/png', 'image/jpeg'] });
 * const grant = await storage.from('avatars').createUploadUrl(`${user.id}/avatar.png`, {
 *   contentTypes: ['image/png'],
 *   maxBytes: 2_000_000,
 *   userId: user.id,
 * });
 * return Response.json(grant); // to the browser, which calls uploadToUrl(grant, file)
 * ```
 */
export function createStorageClient(transport: Transport): StorageClient {
  return {
    createBucket: (options, callOptions) =>
      callAs(transport, createBucketRoute, 'storage.createBucket()', options, callOptions).then((a) => a.bucket),

    listBuckets: (callOptions) =>
      callAs(transport, listBucketsRoute, 'storage.listBuckets()', {}, callOptions).then((a) => a.buckets),

    from(bucket) {
      // No request of its own: each method checks for the key, named as the user wrote it.
      const scope = `storage.from(${JSON.stringify(bucket)})`;
      const relocation = (from: string, to: string, toBucket: string | undefined) => ({
        bucket,
        from,
        to,
        ...(toBucket === undefined ? {} : { toBucket }),
      });
      return {
        // bucket and key last: an options object from elsewhere cannot redirect the grant.
        createUploadUrl: (key, options, callOptions) =>
          callAs(
            transport,
            createUploadUrlRoute,
            `${scope}.createUploadUrl()`,
            { ...options, bucket, key },
            callOptions,
          ),

        createMultipartUpload: (key, options, callOptions) =>
          callAs(
            transport,
            createMultipartUploadRoute,
            `${scope}.createMultipartUpload()`,
            { ...options, bucket, key },
            callOptions,
          ),

        info: (key, callOptions) =>
          callAs(transport, getObjectInfoRoute, `${scope}.info()`, { bucket, key }, callOptions).then((a) => a.object),

        remove: (keys, callOptions) =>
          callAs(
            transport,
            removeObjectsRoute,
            `${scope}.remove()`,
            { bucket, keys: typeof keys === 'string' ? [keys] : keys },
            callOptions,
          ).then((a) => a.removed),

        createDownloadUrl: (key, options, callOptions) =>
          callAs(
            transport,
            createDownloadUrlRoute,
            `${scope}.createDownloadUrl()`,
            { ...options, bucket, key },
            callOptions,
          ),

        list: (options, callOptions) =>
          callAs(transport, listObjectsRoute, `${scope}.list()`, { ...options, bucket }, callOptions),

        move: (from, to, options, callOptions) =>
          callAs(
            transport,
            moveObjectRoute,
            `${scope}.move()`,
            relocation(from, to, options?.toBucket),
            callOptions,
          ).then((a) => a.object),

        copy: (from, to, options, callOptions) =>
          callAs(
            transport,
            copyObjectRoute,
            `${scope}.copy()`,
            relocation(from, to, options?.toBucket),
            callOptions,
          ).then((a) => a.object),

        publicUrl: (key) => `${transport.url}/v1/storage/public/${bucket}?${new URLSearchParams({ key })}`,
      };
    },
  };
}
