import { hkdfSync } from 'node:crypto';
import { defineFeatureModule, type ServiceContext } from '../feature-module.js';
import { createBucketHandler, listBucketsHandler } from './buckets.js';
import { createDownloadUrlHandler, downloadHandler, publicDownloadHandler } from './downloads.js';
import { createLocalDriver } from './local-driver.js';
import {
  abortMultipartUploadHandler,
  completeMultipartUploadHandler,
  createMultipartUploadHandler,
  listPartsHandler,
  partUrlsHandler,
  uploadPartHandler,
} from './multipart.js';
import {
  copyObjectHandler,
  getObjectInfoHandler,
  listObjectsHandler,
  moveObjectHandler,
  removeObjectsHandler,
} from './objects.js';
import { presignedUrls } from './presigned-url.js';
import { createS3Driver } from './s3-driver.js';
import { createStorageService, type StorageService } from './storage-service.js';
import { completeUploadHandler, createUploadUrlHandler, uploadHandler } from './uploads.js';

function createStorageServices({ database, settings, secrets }: ServiceContext): StorageService {
  const { publicUrl } = settings;
  return createStorageService({
    database,
    driver: settings.storage?.s3
      ? createS3Driver(settings.storage.s3)
      : createLocalDriver({ root: settings.storage?.dir ?? '.plinth/storage' }),
    // Derived from a secret every instance shares, so a URL one instance signed works on another.
    urls: presignedUrls(Buffer.from(hkdfSync('sha256', secrets.refreshSecret, '', 'plinth storage urls', 32))),
    publicUrl: typeof publicUrl === 'function' ? publicUrl : () => publicUrl,
  });
}

/**
 * Storage: buckets, upload grants (signed single-use URLs the app's server hands to a browser, for
 * one PUT or for an upload in parts that resumes from the parts the server has),
 * uploads checked on their bytes before they become objects, object info, listing, moves and copies,
 * downloads (signed URLs, and plain URLs for public buckets) and removal. Bytes live
 * in the local-disk driver, or in a bucket of an S3-compatible service (`settings.storage.s3`); metadata and the `object.created`/`object.deleted` events in the
 * database. `services.storage` is the service.
 */
export const storageModule = defineFeatureModule({
  name: 'storage',
  handlers: [
    createBucketHandler,
    listBucketsHandler,
    createUploadUrlHandler,
    uploadHandler,
    completeUploadHandler,
    getObjectInfoHandler,
    removeObjectsHandler,
    createDownloadUrlHandler,
    downloadHandler,
    publicDownloadHandler,
    listObjectsHandler,
    moveObjectHandler,
    copyObjectHandler,
    createMultipartUploadHandler,
    uploadPartHandler,
    partUrlsHandler,
    listPartsHandler,
    completeMultipartUploadHandler,
    abortMultipartUploadHandler,
  ],
  createServices: createStorageServices,
});
