/**
 * Plinth storage. On your server, with the service key: buckets, signed single-use upload URLs,
 * object info and removal (`createStorageClient`); each throws `MissingServiceKeyError`
 * synchronously without the key. In the browser, with no key: `uploadToUrl(grant, file)` sends
 * the bytes to the URL your server made, with progress and abort.
 *
 * @packageDocumentation
 */

export type { Bucket, ObjectInfo, UploadGrant } from '@plinth/protocol';
export {
  type BucketClient,
  type CreateBucketOptions,
  createStorageClient,
  type StorageClient,
  type UploadUrlOptions,
} from './storage-client.js';
export { type UploadBody, type UploadOptions, type UploadProgress, uploadToUrl } from './upload-to-url.js';
