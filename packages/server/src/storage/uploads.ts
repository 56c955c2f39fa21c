import { completeUploadRoute, createUploadUrlRoute, uploadRoute } from '@plinth/protocol';
import { bytesOf, defineHandler } from '../http/route-handler.js';

/**
 * `POST /v1/storage/buckets/:bucket/upload-urls`: a grant for one upload, as a signed URL.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [createUploadUrlHandler] });
 * ```
 */
export const createUploadUrlHandler = defineHandler(createUploadUrlRoute, async ({ input, services }) =>
  services.storage.createUploadUrl(input),
);

/**
 * `PUT /v1/storage/uploads/:uploadId`: the bytes of an upload. The auth guard has checked the
 * URL's signature and expiry; the grant it names decides the rest.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [uploadHandler] });
 * ```
 */
export const uploadHandler = defineHandler(uploadRoute, async ({ input, request, services, body }) => ({
  object: await services.storage.upload(
    input.uploadId,
    {
      contentType: request.headers.get('content-type') ?? undefined,
      contentLength: request.headers.get('content-length') ?? undefined,
      contentDigest: request.headers.get('content-digest') ?? undefined,
    },
    bytesOf(body),
  ),
}));

/**
 * `POST /v1/storage/uploads/:uploadId/complete`: on S3, the bytes a browser sent to the storage
 * service are checked and become the object.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [completeUploadHandler] });
 * ```
 */
export const completeUploadHandler = defineHandler(completeUploadRoute, async ({ input, services }) => ({
  object: await services.storage.completeUpload(input.uploadId, { size: input.size, sha256: input.sha256 }),
}));
