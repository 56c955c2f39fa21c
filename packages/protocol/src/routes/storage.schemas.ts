import * as z from 'zod/mini';

/** Bucket names: 3 to 63 lowercase letters, digits and hyphens, as S3's DNS-style names. */
export const bucketName = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
      'expected 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit',
    ),
  );

/**
 * Object keys: 1 to 1024 characters, `/`-separated segments, none empty, `.` or `..`, no control
 * characters and no backslash, so a key means the same on every driver and never names a path.
 */
export const objectKey = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.refine(
    (key) =>
      !/[\p{Cc}\\]/u.test(key) &&
      key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
    'expected /-separated segments, none empty, "." or "..", with no control characters or backslash',
  ),
);

/** A MIME type without parameters, lowercase: `image/png`. */
export const contentType = z
  .string()
  .check(
    z.maxLength(255),
    z.regex(
      /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/,
      'expected a lowercase MIME type such as image/png',
    ),
  );

/** The most bytes one object may have: 5 TiB, S3's own limit. */
export const maxObjectBytesLimit = 5 * 1024 ** 4;

/** How long an upload grant may live, in seconds: 7 days at most. */
export const maxGrantSeconds = 7 * 24 * 60 * 60;

const byteCount = z.number().check(z.int(), z.minimum(0), z.maximum(maxObjectBytesLimit));

/** Small string metadata an app keeps with an object (at most 32 entries). */
const metadata = z.record(
  z.string().check(z.regex(/^[a-z0-9_-]{1,64}$/, 'expected a lowercase name of 1 to 64 letters, digits, _ or -')),
  z.string().check(z.maxLength(1024)),
);

export const bucketSchema = z.object({
  name: z.string(),
  public: z.boolean(),
  /** Empty: any content type. */
  allowedContentTypes: z.array(z.string()),
  maxObjectBytes: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** An object as every storage route describes it. */
export const objectInfoSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  size: z.number(),
  contentType: z.string(),
  sha256: z.string(),
  etag: z.string(),
  /** The user the upload grant was minted for, if it was minted for one. */
  owner: z.nullable(z.string()),
  metadata: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const createBucketSchemas = {
  request: z.object({
    name: bucketName,
    public: z.optional(z.boolean()),
    allowedContentTypes: z.optional(z.array(contentType).check(z.maxLength(100))),
    /** Default 50 MiB. */
    maxObjectBytes: z.optional(byteCount.check(z.minimum(1))),
  }),
  response: z.object({ bucket: bucketSchema }),
};

export const listBucketsSchemas = {
  request: z.object({}),
  response: z.object({ buckets: z.array(bucketSchema) }),
};

export const createUploadUrlSchemas = {
  request: z.object({
    bucket: bucketName,
    key: objectKey,
    /** The types the upload may declare: a subset of the bucket's. Default: the bucket's. */
    contentTypes: z.optional(z.array(contentType).check(z.minLength(1), z.maxLength(100))),
    /** Default 0. */
    minBytes: z.optional(byteCount),
    /** Default (and at most) the bucket's `maxObjectBytes`. */
    maxBytes: z.optional(byteCount),
    /** Seconds until the URL expires: default 600, at most 7 days. */
    expiresIn: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(maxGrantSeconds))),
    /** The user the upload is for: recorded as the object's owner. */
    userId: z.optional(z.string().check(z.uuid())),
    metadata: z.optional(metadata),
  }),
  response: z.object({
    /** Where to send the bytes: absolute, signed, single use. */
    url: z.string(),
    /**
     * `PUT`: the body is the bytes, with `headers` (the Plinth server stores them). `POST`: an
     * HTML form upload straight to the storage service (S3), `fields` first and the file last.
     */
    method: z.enum(['PUT', 'POST']),
    /** Headers the upload must send (the content type, when the grant allows only one). */
    headers: z.record(z.string(), z.string()),
    /** With `POST`: the form fields to send, in this order, before the file. */
    fields: z.optional(z.record(z.string(), z.string())),
    /**
     * With `POST`: after the storage service took the bytes, `POST` this (signed) URL; the Plinth
     * server then checks them and makes them the object.
     */
    completeUrl: z.optional(z.string()),
    expiresAt: z.string(),
    uploadId: z.string(),
  }),
};

/** A signed completion URL, and what the uploader knows of the bytes it sent: both checked when given. */
export const completeUploadSchemas = {
  request: z.object({
    uploadId: z.string().check(z.uuid()),
    /** The bytes sent: a smaller object at the storage service means the upload was cut (a 409). */
    size: z.optional(byteCount),
    /** The SHA-256 of the bytes sent, hex. */
    sha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  }),
  response: z.object({ object: objectInfoSchema }),
};

export const uploadSchemas = {
  request: z.object({
    uploadId: z.string().check(z.uuid()),
    expires: z.string().check(z.regex(/^\d{1,12}$/)),
    signature: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
  }),
  response: z.object({ object: objectInfoSchema }),
};

export const getObjectInfoSchemas = {
  request: z.object({ bucket: bucketName, key: objectKey }),
  response: z.object({ object: objectInfoSchema }),
};

export const removeObjectsSchemas = {
  request: z.object({ bucket: bucketName, keys: z.array(objectKey).check(z.minLength(1), z.maxLength(1000)) }),
  /** The keys that were there and are gone now. */
  response: z.object({ removed: z.array(z.string()) }),
};

/** A file name for `Content-Disposition`: no path, no control characters. */
const downloadName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(/^[^\p{Cc}/\\"]+$/u, 'expected a file name without slashes, quotes or control characters'),
  );

export const createDownloadUrlSchemas = {
  request: z.object({
    bucket: bucketName,
    key: objectKey,
    /** Seconds until the URL expires: default 600, at most 7 days. */
    expiresIn: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(maxGrantSeconds))),
    /** Ask browsers to save the file under this name instead of showing it. */
    download: z.optional(downloadName),
  }),
  response: z.object({ url: z.string(), expiresAt: z.string() }),
};

/** The query of a signed download URL. The answer is the object's bytes, not JSON. */
export const downloadSchemas = {
  request: z.object({
    bucket: bucketName,
    key: objectKey,
    download: z.optional(downloadName),
    expires: z.string().check(z.regex(/^\d{1,12}$/)),
    signature: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
  }),
  response: z.unknown(),
};

/** The query of a public bucket's object URL. The answer is the object's bytes, not JSON. */
export const publicDownloadSchemas = {
  request: z.object({ bucket: bucketName, key: objectKey, download: z.optional(downloadName) }),
  response: z.unknown(),
};

export const listObjectsSchemas = {
  request: z.object({
    bucket: bucketName,
    /** Only keys that start with this. */
    prefix: z.optional(z.string().check(z.maxLength(1024))),
    /** Group keys by what follows the prefix up to this (usually `/`), as folders. */
    delimiter: z.optional(z.string().check(z.minLength(1), z.maxLength(8))),
    /** Default 100, at most 1 000 objects and prefixes together. */
    limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000))),
    /** `nextCursor` of the page before. */
    cursor: z.optional(z.string().check(z.maxLength(2048))),
  }),
  response: z.object({
    objects: z.array(objectInfoSchema),
    /** With a delimiter: the "folders" under the prefix, each ending with the delimiter. */
    prefixes: z.array(z.string()),
    nextCursor: z.nullable(z.string()),
  }),
};

/** Where `move` and `copy` put an object: another key, in the same bucket unless `toBucket` says. */
const relocation = z.object({
  bucket: bucketName,
  from: objectKey,
  to: objectKey,
  toBucket: z.optional(bucketName),
});

export const moveObjectSchemas = {
  request: relocation,
  response: z.object({ object: objectInfoSchema }),
};

export const copyObjectSchemas = {
  request: relocation,
  response: z.object({ object: objectInfoSchema }),
};

/** Parts of a multipart upload: 64 KiB to 64 MiB each, at most 10 000 of them. */
export const partSizeLimits = { min: 64 * 1024, max: 64 * 1024 * 1024, count: 10_000 } as const;

export const createMultipartUploadSchemas = {
  request: z.object({
    ...createUploadUrlSchemas.request.def.shape,
    /** Bytes per part (the last may be shorter); default 8 MiB. */
    partSize: z.optional(z.number().check(z.int(), z.minimum(partSizeLimits.min), z.maximum(partSizeLimits.max))),
  }),
  response: z.object({
    /**
     * The upload's signed URL: parts go to `<url path>/parts/<n>`, the list of parts the server has
     * is at `<url path>/parts`, completion at `<url path>/complete`, each with the URL's query.
     */
    url: z.string(),
    uploadId: z.string(),
    partSize: z.number(),
    expiresAt: z.string(),
    /** The types the completed object may be declared as (empty: any). */
    contentTypes: z.array(z.string()),
  }),
};

// The URL's `expires` and `signature` are checked by the server's guard before the input is read.
const multipartQuery = { uploadId: z.string().check(z.uuid()) };

/** A part as the server keeps it; `sha256` when the server computed it (not on S3, which keeps MD5s). */
export const uploadPartSchema = z.object({
  partNumber: z.number(),
  size: z.number(),
  sha256: z.optional(z.string()),
});

export const partUrlsSchemas = {
  request: z.object({
    ...multipartQuery,
    /** The parts to send next: up to 100 part numbers. */
    parts: z
      .array(z.number().check(z.int(), z.minimum(1), z.maximum(partSizeLimits.count)))
      .check(z.minLength(1), z.maxLength(100)),
  }),
  response: z.object({
    /** Where to `PUT` each part's bytes (with its headers), until the upload's URL expires. */
    parts: z.array(z.object({ partNumber: z.number(), url: z.string(), headers: z.record(z.string(), z.string()) })),
  }),
};

export const uploadPartSchemas = {
  request: z.object({
    ...multipartQuery,
    partNumber: z.coerce.number().check(z.int(), z.minimum(1), z.maximum(partSizeLimits.count)),
  }),
  response: uploadPartSchema,
};

export const listPartsSchemas = {
  request: z.object(multipartQuery),
  response: z.object({
    parts: z.array(uploadPartSchema),
    partSize: z.number(),
    /** `pending` while parts may arrive; `committed` once completed. */
    state: z.string(),
  }),
};

export const completeMultipartUploadSchemas = {
  request: z.object({
    ...multipartQuery,
    /** The object's type: one the upload allows. The assembled bytes are sniffed against it. */
    contentType,
    /** How many parts the object has; parts 1 to this must all be there. */
    parts: z.number().check(z.int(), z.minimum(1), z.maximum(partSizeLimits.count)),
    /** The SHA-256 of the whole object, hex, when the client knows it: checked. */
    sha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  }),
  response: z.object({ object: objectInfoSchema }),
};

export const abortMultipartUploadSchemas = {
  request: z.object(multipartQuery),
  response: z.object({ aborted: z.boolean() }),
};

/** A bucket as the storage routes describe it. */
export type Bucket = z.output<typeof bucketSchema>;
/** An object as the storage routes describe it. */
export type ObjectInfo = z.output<typeof objectInfoSchema>;
/** What `createUploadUrl` answers: hand it to the browser, which sends the bytes with it. */
export type UploadGrant = z.output<typeof createUploadUrlSchemas.response>;
/** What `createMultipartUpload` answers: hand it to the browser, which sends the parts with it. */
export type MultipartGrant = z.output<typeof createMultipartUploadSchemas.response>;
/** A part of a multipart upload, as the server has it. */
export type UploadPart = z.output<typeof uploadPartSchema>;
