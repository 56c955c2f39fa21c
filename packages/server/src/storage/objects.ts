import {
  copyObjectRoute,
  getObjectInfoRoute,
  listObjectsRoute,
  moveObjectRoute,
  removeObjectsRoute,
} from '@plinth/protocol';
import { defineHandler } from '../http/route-handler.js';

/**
 * `GET /v1/storage/buckets/:bucket/object?key=`: one object's size, type, checksum and owner.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [getObjectInfoHandler] });
 * ```
 */
export const getObjectInfoHandler = defineHandler(getObjectInfoRoute, async ({ input, services }) => ({
  object: await services.storage.info(input.bucket, input.key),
}));

/**
 * `POST /v1/storage/buckets/:bucket/remove`: removes objects by key; answers the keys that were there.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [removeObjectsHandler] });
 * ```
 */
export const removeObjectsHandler = defineHandler(removeObjectsRoute, async ({ input, services }) => ({
  removed: await services.storage.remove(input.bucket, input.keys),
}));

/**
 * `GET /v1/storage/buckets/:bucket/objects`: objects under a prefix, folders grouped at a delimiter, in pages.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [listObjectsHandler] });
 * ```
 */
export const listObjectsHandler = defineHandler(listObjectsRoute, async ({ input, services }) =>
  services.storage.list(input.bucket, input),
);

/**
 * `POST /v1/storage/buckets/:bucket/move`: gives an object another key or bucket.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [moveObjectHandler] });
 * ```
 */
export const moveObjectHandler = defineHandler(moveObjectRoute, async ({ input, services }) => ({
  object: await services.storage.move(
    { bucket: input.bucket, key: input.from },
    { bucket: input.toBucket ?? input.bucket, key: input.to },
  ),
}));

/**
 * `POST /v1/storage/buckets/:bucket/copy`: a second object with the same bytes.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [copyObjectHandler] });
 * ```
 */
export const copyObjectHandler = defineHandler(copyObjectRoute, async ({ input, services }) => ({
  object: await services.storage.copy(
    { bucket: input.bucket, key: input.from },
    { bucket: input.toBucket ?? input.bucket, key: input.to },
  ),
}));
