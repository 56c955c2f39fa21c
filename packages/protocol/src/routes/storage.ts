import { defineRoute } from '../route.js';
import type * as schemas from './storage.schemas.js';

// Storage management runs on the app's server (service key, or an API key with a storage
// scope); a browser only ever sends bytes to a URL that server signed (`storage.upload`).

/** `POST /v1/storage/buckets`: makes a bucket. */
export const createBucketRoute = /* @__PURE__ */ defineRoute<typeof schemas.createBucketSchemas>()({
  name: 'storage.createBucket',
  method: 'POST',
  path: '/v1/storage/buckets',
  auth: 'service',
  scope: 'storage:write',
});

/** `GET /v1/storage/buckets`: every bucket, by name. */
export const listBucketsRoute = /* @__PURE__ */ defineRoute<typeof schemas.listBucketsSchemas>()({
  name: 'storage.listBuckets',
  method: 'GET',
  path: '/v1/storage/buckets',
  auth: 'service',
  scope: 'storage:read',
});

/** `POST /v1/storage/buckets/:bucket/upload-urls`: a signed, single-use URL for one upload. */
export const createUploadUrlRoute = /* @__PURE__ */ defineRoute<typeof schemas.createUploadUrlSchemas>()({
  name: 'storage.createUploadUrl',
  method: 'POST',
  path: '/v1/storage/buckets/:bucket/upload-urls',
  auth: 'service',
  scope: 'storage:write',
});

/** `PUT /v1/storage/uploads/:uploadId`: the bytes of an upload, to the URL the server signed. */
export const uploadRoute = /* @__PURE__ */ defineRoute<typeof schemas.uploadSchemas>()({
  name: 'storage.upload',
  method: 'PUT',
  path: '/v1/storage/uploads/:uploadId',
  auth: 'presigned',
  body: 'bytes',
});

/**
 * `POST /v1/storage/uploads/:uploadId/complete`: after a form upload straight to the storage
 * service (S3), the server checks the bytes there and makes them the object.
 */
export const completeUploadRoute = /* @__PURE__ */ defineRoute<typeof schemas.completeUploadSchemas>()({
  name: 'storage.completeUpload',
  method: 'POST',
  path: '/v1/storage/uploads/:uploadId/complete',
  auth: 'presigned',
});

/** `GET /v1/storage/buckets/:bucket/object?key=`: one object's size, type, checksum and owner. */
export const getObjectInfoRoute = /* @__PURE__ */ defineRoute<typeof schemas.getObjectInfoSchemas>()({
  name: 'storage.info',
  method: 'GET',
  path: '/v1/storage/buckets/:bucket/object',
  auth: 'service',
  scope: 'storage:read',
});

/** `POST /v1/storage/buckets/:bucket/remove`: removes objects by key (up to 1 000 at once). */
export const removeObjectsRoute = /* @__PURE__ */ defineRoute<typeof schemas.removeObjectsSchemas>()({
  name: 'storage.remove',
  method: 'POST',
  path: '/v1/storage/buckets/:bucket/remove',
  auth: 'service',
  scope: 'storage:write',
  idempotent: true,
});

/** `POST /v1/storage/buckets/:bucket/download-urls`: a signed, expiring URL to read one object. */
export const createDownloadUrlRoute = /* @__PURE__ */ defineRoute<typeof schemas.createDownloadUrlSchemas>()({
  name: 'storage.createDownloadUrl',
  method: 'POST',
  path: '/v1/storage/buckets/:bucket/download-urls',
  auth: 'service',
  scope: 'storage:read',
});

/**
 * `GET /v1/storage/objects/:bucket?key=…&expires=…&signature=…`: an object's bytes through a URL
 * the server signed; `Range` and `If-None-Match` are honoured.
 */
export const downloadRoute = /* @__PURE__ */ defineRoute<typeof schemas.downloadSchemas>()({
  name: 'storage.download',
  method: 'GET',
  path: '/v1/storage/objects/:bucket',
  auth: 'presigned',
});

/** `GET /v1/storage/public/:bucket?key=`: an object of a public bucket, for anyone. */
export const publicDownloadRoute = /* @__PURE__ */ defineRoute<typeof schemas.publicDownloadSchemas>()({
  name: 'storage.publicDownload',
  method: 'GET',
  path: '/v1/storage/public/:bucket',
  auth: 'none',
});

/** `GET /v1/storage/buckets/:bucket/objects`: objects by key, under a prefix, folders grouped, in pages. */
export const listObjectsRoute = /* @__PURE__ */ defineRoute<typeof schemas.listObjectsSchemas>()({
  name: 'storage.list',
  method: 'GET',
  path: '/v1/storage/buckets/:bucket/objects',
  auth: 'service',
  scope: 'storage:read',
});

/** `POST /v1/storage/buckets/:bucket/move`: gives an object another key (or bucket); 409 if taken. */
export const moveObjectRoute = /* @__PURE__ */ defineRoute<typeof schemas.moveObjectSchemas>()({
  name: 'storage.move',
  method: 'POST',
  path: '/v1/storage/buckets/:bucket/move',
  auth: 'service',
  scope: 'storage:write',
});

/** `POST /v1/storage/buckets/:bucket/copy`: a second object with the same bytes; 409 if the key is taken. */
export const copyObjectRoute = /* @__PURE__ */ defineRoute<typeof schemas.copyObjectSchemas>()({
  name: 'storage.copy',
  method: 'POST',
  path: '/v1/storage/buckets/:bucket/copy',
  auth: 'service',
  scope: 'storage:write',
});

/** `POST /v1/storage/buckets/:bucket/multipart-uploads`: a grant for one upload sent in parts. */
export const createMultipartUploadRoute = /* @__PURE__ */ defineRoute<typeof schemas.createMultipartUploadSchemas>()({
  name: 'storage.createMultipartUpload',
  method: 'POST',
  path: '/v1/storage/buckets/:bucket/multipart-uploads',
  auth: 'service',
  scope: 'storage:write',
});

/** `PUT /v1/storage/multipart/:uploadId/parts/:partNumber`: one part's bytes; sent again, it replaces the part. */
export const uploadPartRoute = /* @__PURE__ */ defineRoute<typeof schemas.uploadPartSchemas>()({
  name: 'storage.uploadPart',
  method: 'PUT',
  path: '/v1/storage/multipart/:uploadId/parts/:partNumber',
  auth: 'presigned',
  body: 'bytes',
});

/**
 * `POST /v1/storage/multipart/:uploadId/part-urls`: where to send parts (Plinth's own URLs on
 * local disk, presigned part URLs of the storage service on S3).
 */
export const partUrlsRoute = /* @__PURE__ */ defineRoute<typeof schemas.partUrlsSchemas>()({
  name: 'storage.partUrls',
  method: 'POST',
  path: '/v1/storage/multipart/:uploadId/part-urls',
  auth: 'presigned',
});

/** `GET /v1/storage/multipart/:uploadId/parts`: the parts the server has, to resume after a cut or a reload. */
export const listPartsRoute = /* @__PURE__ */ defineRoute<typeof schemas.listPartsSchemas>()({
  name: 'storage.listParts',
  method: 'GET',
  path: '/v1/storage/multipart/:uploadId/parts',
  auth: 'presigned',
});

/** `POST /v1/storage/multipart/:uploadId/complete`: joins parts 1 to n into one checked object. */
export const completeMultipartUploadRoute = /* @__PURE__ */ defineRoute<
  typeof schemas.completeMultipartUploadSchemas
>()({
  name: 'storage.completeMultipartUpload',
  method: 'POST',
  path: '/v1/storage/multipart/:uploadId/complete',
  auth: 'presigned',
});

/** `DELETE /v1/storage/multipart/:uploadId`: drops the upload and its parts. */
export const abortMultipartUploadRoute = /* @__PURE__ */ defineRoute<typeof schemas.abortMultipartUploadSchemas>()({
  name: 'storage.abortMultipartUpload',
  method: 'DELETE',
  path: '/v1/storage/multipart/:uploadId',
  auth: 'presigned',
});
