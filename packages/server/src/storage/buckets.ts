import { createBucketRoute, listBucketsRoute } from '@plinth/protocol';
import { defineHandler } from '../http/route-handler.js';

/**
 * `POST /v1/storage/buckets`: makes a bucket (a 409 if the name is taken).
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [createBucketHandler] });
 * ```
 */
export const createBucketHandler = defineHandler(createBucketRoute, async ({ input, services }) => ({
  bucket: await services.storage.createBucket(input),
}));

/**
 * `GET /v1/storage/buckets`: every bucket, by name.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [listBucketsHandler] });
 * ```
 */
export const listBucketsHandler = defineHandler(listBucketsRoute, async ({ services }) => ({
  buckets: await services.storage.listBuckets(),
}));
