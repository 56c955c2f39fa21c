import {
  abortMultipartUploadRoute,
  completeMultipartUploadRoute,
  createMultipartUploadRoute,
  listPartsRoute,
  partUrlsRoute,
  uploadPartRoute,
} from '@plinth/protocol';
import { bytesOf, defineHandler } from '../http/route-handler.js';

/**
 * `POST /v1/storage/buckets/:bucket/multipart-uploads`: a grant for one upload sent in parts.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [createMultipartUploadHandler] });
 * ```
 */
export const createMultipartUploadHandler = defineHandler(createMultipartUploadRoute, async ({ input, services }) =>
  services.storage.createMultipartUpload(input),
);

/**
 * `PUT /v1/storage/multipart/:uploadId/parts/:partNumber`: one part's bytes, streamed.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [uploadPartHandler] });
 * ```
 */
export const uploadPartHandler = defineHandler(uploadPartRoute, async ({ input, request, services, body }) =>
  services.storage.uploadPart(
    input.uploadId,
    input.partNumber,
    {
      contentLength: request.headers.get('content-length') ?? undefined,
      contentDigest: request.headers.get('content-digest') ?? undefined,
    },
    bytesOf(body),
  ),
);

/**
 * `POST /v1/storage/multipart/:uploadId/part-urls`: where to send each part.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [partUrlsHandler] });
 * ```
 */
export const partUrlsHandler = defineHandler(partUrlsRoute, async ({ input, services }) =>
  services.storage.partUrls(input.uploadId, input.parts),
);

/**
 * `GET /v1/storage/multipart/:uploadId/parts`: the parts the server has.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [listPartsHandler] });
 * ```
 */
export const listPartsHandler = defineHandler(listPartsRoute, async ({ input, services }) =>
  services.storage.listParts(input.uploadId),
);

/**
 * `POST /v1/storage/multipart/:uploadId/complete`: parts 1 to n become one checked object.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [completeMultipartUploadHandler] });
 * ```
 */
export const completeMultipartUploadHandler = defineHandler(
  completeMultipartUploadRoute,
  async ({ input, services }) => ({
    object: await services.storage.completeMultipartUpload(input.uploadId, input),
  }),
);

/**
 * `DELETE /v1/storage/multipart/:uploadId`: drops the upload and its parts.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [abortMultipartUploadHandler] });
 * ```
 */
export const abortMultipartUploadHandler = defineHandler(abortMultipartUploadRoute, async ({ input, services }) =>
  services.storage.abortMultipartUpload(input.uploadId),
);
