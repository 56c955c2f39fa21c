import { createHmac } from 'node:crypto';

/**
 * What a browser may upload with one S3 POST form: one exact key, one exact Content-Type, a size
 * range, until a time. aws4fetch signs requests and query strings but not POST policies, so the
 * policy is built and signed here (SigV4, "Browser-Based Uploads Using POST").
 */
export interface PostPolicyRequest {
  /** Origin (and optional path) of the S3 API, e.g. `http://127.0.0.1:9000` or `https://s3.eu-west-1.amazonaws.com`. */
  endpoint: string;
  /** The S3 bucket; the form posts to `${endpoint}/${bucket}` (path style, which every S3-compatible store accepts). */
  bucket: string;
  /** The region in the credential scope (`us-east-1`, `auto` for R2, …). */
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' token; it goes into the form and the policy when set. */
  sessionToken?: string | undefined;
  /** The exact object key the upload must have. */
  key: string;
  /**
   * The exact Content-Type the upload must declare; undefined lets the uploader send any
   * `Content-Type` field (the caller checks the type afterwards).
   */
  contentType: string | undefined;
  /** Smallest accepted upload, in bytes. */
  minBytes: number;
  /** Largest accepted upload, in bytes. */
  maxBytes: number;
  /** After this, S3 refuses the form. */
  expiresAt: Date;
  /** The signing time; the current time when omitted. */
  now?: Date | undefined;
  /** More form fields (e.g. `success_action_status: '201'`); each is also pinned by an exact condition. */
  extraFields?: Record<string, string> | undefined;
}

/** Where the browser posts and the fields it sends before the `file` field (which must come last). */
export interface PostPolicy {
  url: string;
  fields: Record<string, string>;
}

const algorithm = 'AWS4-HMAC-SHA256';

// S3 matches form field names case-insensitively, so an extra field spelled `policy` or
// `x-amz-date` would shadow (or duplicate) one this module sets.
const reservedFields = new Set([
  'bucket',
  'content-type',
  'file',
  'key',
  'policy',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-signature',
]);

/**
 * The SigV4 signing key: HMAC-SHA256 chained over `AWS4` + secret, the date, the region, the
 * service and `aws4_request`.
 *
 * @example
 * ```ts
 * const key = signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20151229', 'us-east-1', 's3');
 * const signature = createHmac('sha256', key).update(policyBase64).digest('hex');
 * ```
 */
export function signingKey(secretAccessKey: string, yyyymmdd: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, yyyymmdd), region), service), 'aws4_request');
}

function requireText(value: unknown, name: string, hint: string): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`An S3 POST policy needs a non-empty ${name}; ${hint}.`);
  }
}

function requireSize(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number of bytes ≥ 0, got ${value}.`);
  }
}

function requireDate(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TypeError(`${name} must be a valid Date, got ${String(value)}.`);
  }
}

/**
 * Builds and signs an S3 POST policy (SigV4) for a browser upload of exactly `key`, with exactly
 * `contentType`, of `minBytes`–`maxBytes` bytes, until `expiresAt`. The browser sends `fields`
 * in order as multipart/form-data to `url`, then the `file` field last.
 *
 * @example
 * ```ts
 * const { url, fields } = createPostPolicy({
 *   endpoint: 'https://s3.eu-west-1.amazonaws.com',
 *   bucket: 'uploads',
 *   region: 'eu-west-1',
 *   accessKeyId,
 *   secretAccessKey,
 *   key: 'avatars/42.png',
 *   contentType: 'image/png',
 *   minBytes: 1,
 *   maxBytes: 5_000_000,
 *   expiresAt: new Date(Date.now() + 10 * 60_000),
 *   extraFields: { success_action_status: '201' },
 * });
 * const form = new FormData();
 * for (const [name, value] of Object.entries(fields)) form.append(name, value);
 * form.append('file', blob);
 * await fetch(url, { method: 'POST', body: form });
 * ```
 */
export function createPostPolicy(request: PostPolicyRequest): PostPolicy {
  const { bucket, region, accessKeyId, secretAccessKey, sessionToken, key, contentType } = request;
  const { minBytes, maxBytes, expiresAt, extraFields = {} } = request;
  const now = request.now ?? new Date();

  let endpoint: URL;
  try {
    endpoint = new URL(request.endpoint);
  } catch {
    throw new TypeError(
      `The S3 endpoint "${request.endpoint}" is not a URL; give its origin, e.g. https://s3.eu-west-1.amazonaws.com.`,
    );
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new TypeError(`The S3 endpoint "${request.endpoint}" must start with http:// or https://.`);
  }
  if (endpoint.search !== '' || endpoint.hash !== '') {
    throw new TypeError(`The S3 endpoint "${request.endpoint}" has a query or fragment; give the origin alone.`);
  }
  requireText(bucket, 'bucket', 'set the bucket name');
  if (bucket.includes('/')) {
    throw new TypeError(`The S3 bucket name "${bucket}" contains a "/"; give the bucket alone, without a key prefix.`);
  }
  requireText(region, 'region', 'set the bucket’s region (us-east-1 for MinIO and s3rver, auto for R2)');
  requireText(accessKeyId, 'access key id', 'set the S3 access key id');
  requireText(secretAccessKey, 'secret access key', 'set the S3 secret access key');
  requireText(key, 'object key', 'give the key the upload must have');
  // S3 replaces ${filename} in the key field with the uploaded file's name, so such a key is
  // not the exact key this policy promises.
  if (key.includes(`\${filename}`)) {
    throw new TypeError(`The object key "${key}" contains \${filename}; give the exact key instead.`);
  }
  if (contentType !== undefined)
    requireText(contentType, 'Content-Type', 'give the exact type the upload must declare');
  requireSize(minBytes, 'minBytes');
  requireSize(maxBytes, 'maxBytes');
  if (minBytes > maxBytes) {
    throw new RangeError(`minBytes (${minBytes}) is more than maxBytes (${maxBytes}); swap them or raise maxBytes.`);
  }
  requireDate(now, 'now');
  requireDate(expiresAt, 'expiresAt');
  if (expiresAt.getTime() <= now.getTime()) {
    throw new RangeError(
      `The policy would expire at ${expiresAt.toISOString()}, which is not after ${now.toISOString()}; give a future expiresAt.`,
    );
  }
  for (const [name, value] of Object.entries(extraFields)) {
    if (name === '' || reservedFields.has(name.toLowerCase())) {
      throw new TypeError(
        `The extra form field "${name}" is one createPostPolicy sets itself (or is empty); pass it through the request's own option instead.`,
      );
    }
    if (typeof value !== 'string') {
      throw new TypeError(`The extra form field "${name}" must be a string, got ${typeof value}.`);
    }
  }

  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const credential = `${accessKeyId}/${date}/${region}/s3/aws4_request`;
  const token = sessionToken ? { 'X-Amz-Security-Token': sessionToken } : {};

  const conditions: unknown[] = [
    { bucket },
    ['eq', '$key', key],
    contentType === undefined ? ['starts-with', '$Content-Type', ''] : ['eq', '$Content-Type', contentType],
    ['content-length-range', minBytes, maxBytes],
    ...Object.entries(extraFields).map(([name, value]) => ['eq', `$${name}`, value]),
    { 'x-amz-credential': credential },
    { 'x-amz-algorithm': algorithm },
    { 'x-amz-date': amzDate },
    ...(sessionToken ? [{ 'x-amz-security-token': sessionToken }] : []),
  ];
  const policy = Buffer.from(JSON.stringify({ expiration: expiresAt.toISOString(), conditions }), 'utf8').toString(
    'base64',
  );
  const signature = createHmac('sha256', signingKey(secretAccessKey, date, region, 's3'))
    .update(policy, 'utf8')
    .digest('hex');

  const base = endpoint.href.replace(/\/+$/, '');
  return {
    url: `${base}/${encodeURIComponent(bucket)}`,
    fields: {
      key,
      ...(contentType === undefined ? {} : { 'Content-Type': contentType }),
      ...extraFields,
      'X-Amz-Credential': credential,
      'X-Amz-Algorithm': algorithm,
      'X-Amz-Date': amzDate,
      ...token,
      Policy: policy,
      'X-Amz-Signature': signature,
    },
  };
}
