/**
 * Plinth storage. On your server, with the service key: buckets, signed upload URLs (single-use,
 * or for an upload in parts), object info and removal (`createStorageClient`); each throws
 * `MissingServiceKeyError` synchronously without the key. In the browser, with no key:
 * `uploadToUrl(grant, file)` sends the bytes to the URL your server made, with progress and
 * abort, and `uploadLarge(grant, file)` sends a large file in parts, resuming from the parts the
 * server has when called again.
 *
 * @packageDocumentation
 */

export type { Bucket, MultipartGrant, ObjectInfo, UploadGrant, UploadPart } from '@plinth/protocol';
export {
  type BucketClient,
  type CreateBucketOptions,
  createStorageClient,
  type MultipartUploadOptions,
  type StorageClient,
  type UploadUrlOptions,
} from './storage-client.js';
export { abortLarge, type LargeUploadBody, type LargeUploadOptions, uploadLarge } from './upload-large.js';
export { type UploadBody, type UploadOptions, type UploadProgress, uploadToUrl } from './upload-to-url.js';
