import { AwsClient } from 'aws4fetch';
import { byteTally } from './byte-tally.js';
import { createPostPolicy } from './s3-post-policy.js';
import {
  type ByteRange,
  type InspectedObject,
  ObjectTooLargeError,
  type S3StorageDriver,
  type StoredPart,
} from './storage-driver.js';
import { connectionFailure, StorageUnavailableError } from './storage-unavailable.js';

/** Where the S3-compatible driver keeps bytes, and how it signs in. */
export interface S3Options {
  /** The service's URL, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000` (MinIO). */
  endpoint: string;
  /** The bucket's region; `us-east-1` for most S3-compatible services. */
  region: string;
  /** One bucket of the service holds every Plinth bucket, under `<prefix><plinth bucket>/…`. */
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  /** Keys start with this, so Plinth can share a bucket (e.g. `plinth/`). Default: none. */
  prefix?: string | undefined;
  /**
   * How long a request waits for the service to connect and begin its answer, in ms; past it the
   * caller gets 503 `storage_unavailable`. Default {@link defaultS3TimeoutMs} (2 s).
   */
  timeoutMs?: number | undefined;
  /**
   * The same for copies and joins of parts, which the service may work on before it answers.
   * Default {@link defaultS3CopyTimeoutMs} (2 min).
   */
  copyTimeoutMs?: number | undefined;
}

/** How long an S3 request waits to connect and for its answer to begin, unless configured. */
export const defaultS3TimeoutMs = 2_000;
/** How long a copy or a join of parts waits for its answer to begin, unless configured. */
export const defaultS3CopyTimeoutMs = 120_000;

/** The storage service refused or failed a request; its S3 error code and message. */
export class S3RequestError extends Error {
  override readonly name = 'S3RequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// A staged upload's key: `.` starts no Plinth bucket name, so it never meets an object's key.
const stagingRoot = '.staging/';

/** Each segment of a key percent-encoded as S3 canonical requests need (RFC 3986). */
const encodeKey = (key: string) =>
  key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');

const xmlEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => xmlEntities[name] ?? '');
const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&${Object.keys(xmlEntities).find((name) => xmlEntities[name] === c)};`);

/** The text of each `<tag>` element of `xml` (S3's answers are flat enough for this). */
function elements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => match[1] ?? '');
}
const element = (xml: string, tag: string) => {
  const [text] = elements(xml, tag);
  return text === undefined ? undefined : unescapeXml(text);
};

/**
 * The S3-compatible storage driver (AWS S3, MinIO, Cloudflare R2, …), signing with SigV4 through
 * `aws4fetch`. Browsers send bytes straight to the service under a staging key; the server reads
 * them back to check them, then copies them into place (matched by ETag, so bytes sent again
 * meanwhile are never the ones committed).
 *
 * @example
 * ```ts
 * const driver = createS3Driver({
 *   endpoint: 'https://s3.eu-west-1.amazonaws.com', region: 'eu-west-1', bucket: 'my-app-files',
 *   accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!,
 * });
 * ```
 */
export function createS3Driver(options: S3Options): S3StorageDriver {
  const {
    endpoint,
    region,
    bucket,
    accessKeyId,
    secretAccessKey,
    sessionToken,
    prefix = '',
    timeoutMs = defaultS3TimeoutMs,
    copyTimeoutMs = defaultS3CopyTimeoutMs,
  } = options;
  const aws = new AwsClient({
    accessKeyId,
    secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
    service: 's3',
    region,
    retries: 2,
  });
  const base = `${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(bucket)}`;
  const urlOf = (key: string, query = '') => `${base}/${encodeKey(prefix + key)}${query}`;

  /**
   * A signed request; S3 error answers become {@link S3RequestError}s (a 404 is left to the
   * caller). A service that cannot be reached, does not begin its answer within `waitMs`, or still
   * fails (5xx) after aws4fetch's retries is a {@link StorageUnavailableError}: a 503, not a 500
   * and not a hang. Only the wait for the answer's start is bounded: an answer's body (a large
   * download) may take as long as it takes.
   */
  async function send(
    url: string,
    init: RequestInit & { headers?: Record<string, string> },
    allow404 = false,
    waitMs = timeoutMs,
  ) {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), waitMs);
    let response: Response;
    try {
      response = await aws.fetch(url, { ...init, signal: deadline.signal });
    } catch (error) {
      if (deadline.signal.aborted) throw new StorageUnavailableError(`did not answer within ${waitMs} ms`, error);
      throw new StorageUnavailableError(`could not be reached (${connectionFailure(error)})`, error);
    } finally {
      clearTimeout(timer);
    }
    if (response.ok || (allow404 && response.status === 404)) return response;
    const text = await response.text().catch(() => '');
    if (response.status >= 500) {
      throw new StorageUnavailableError(
        `answered ${response.status} ${element(text, 'Code') ?? ''}`.trimEnd(),
        new Error(element(text, 'Message') ?? text.slice(0, 200)),
      );
    }
    throw new S3RequestError(
      response.status,
      element(text, 'Code') ?? `HTTP ${response.status}`,
      `The storage service answered ${init.method ?? 'GET'} ${new URL(url).pathname} with ${response.status} ${element(text, 'Code') ?? ''}: ${element(text, 'Message') ?? text.slice(0, 200)}`,
    );
  }

  /** The answer's text; the service going away while it sends it is a {@link StorageUnavailableError}. */
  async function textOf(response: Response): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      throw new StorageUnavailableError(`cut its answer off (${connectionFailure(error)})`, error);
    }
  }

  /** A 200 answer of CopyObject or CompleteMultipartUpload may still carry an error. */
  async function checkBody(response: Response, what: string): Promise<string> {
    const text = await textOf(response);
    if (/<Error>/.test(text)) {
      throw new S3RequestError(
        500,
        element(text, 'Code') ?? 'InternalError',
        `The storage service failed ${what}: ${element(text, 'Message') ?? text.slice(0, 200)}`,
      );
    }
    return text;
  }

  async function read(key: string, range?: ByteRange) {
    const response = await send(
      urlOf(key),
      { method: 'GET', headers: range ? { range: `bytes=${range.start}-${range.end}` } : {} },
      true,
    );
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return response.body as unknown as AsyncIterable<Uint8Array>;
  }

  async function copy(from: string, to: string, ifMatch?: string) {
    const headers: Record<string, string> = {
      'x-amz-copy-source': `/${encodeURIComponent(bucket)}/${encodeKey(prefix + from)}`,
    };
    if (ifMatch !== undefined) headers['x-amz-copy-source-if-match'] = ifMatch;
    await checkBody(await send(urlOf(to), { method: 'PUT', headers }, false, copyTimeoutMs), 'to copy an object');
  }

  const remove = async (key: string) => {
    await (await send(urlOf(key), { method: 'DELETE' }, true)).body?.cancel();
  };

  return {
    kind: 's3',
    read,
    remove,
    copy: (from, to) => copy(from, to),

    stagingKey: (uploadId) => `${stagingRoot}${uploadId}`,

    postPolicy({ key, contentType, minBytes, maxBytes, expiresAt }) {
      return createPostPolicy({
        endpoint,
        bucket,
        region,
        accessKeyId,
        secretAccessKey,
        sessionToken,
        key: prefix + key,
        contentType,
        minBytes,
        maxBytes,
        expiresAt,
      });
    },

    async inspect(key, maxBytes): Promise<InspectedObject | undefined> {
      const response = await send(urlOf(key), { method: 'GET' }, true);
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      const etag = response.headers.get('etag') ?? '';
      const contentType = response.headers.get('content-type') ?? 'application/octet-stream';
      const tally = byteTally(maxBytes);
      try {
        // Past maxBytes add() throws: leaving the loop cancels the rest of the answer.
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) tally.add(chunk);
      } catch (error) {
        if (error instanceof ObjectTooLargeError) throw error;
        // The service went away half-way through its answer: nothing was checked, nothing refused.
        throw new StorageUnavailableError(`cut its answer off (${connectionFailure(error)})`, error);
      }
      let committed = false;
      return {
        ...tally.result(),
        contentType,
        async commit(target) {
          // Only the bytes that were read and checked: if the staged key was written again since,
          // its ETag changed and the copy is refused.
          await copy(key, target, etag);
          committed = true;
          await remove(key);
        },
        async discard() {
          if (!committed) await remove(key);
        },
      };
    },

    async createMultipart(key) {
      const text = await checkBody(await send(urlOf(key, '?uploads'), { method: 'POST' }), 'to start an upload');
      const id = element(text, 'UploadId');
      if (!id) throw new S3RequestError(500, 'InternalError', 'The storage service gave no UploadId.');
      return id;
    },

    async partUrl(key, multipartId, partNumber, expiresAt) {
      // SigV4 presigned URLs live 7 days at most, as grants do.
      const seconds = Math.max(1, Math.min(604_800, Math.ceil((expiresAt.getTime() - Date.now()) / 1000)));
      const url = new URL(urlOf(key));
      url.searchParams.set('partNumber', String(partNumber));
      url.searchParams.set('uploadId', multipartId);
      url.searchParams.set('X-Amz-Expires', String(seconds));
      const signed = await aws.sign(url.href, { method: 'PUT', aws: { signQuery: true } });
      return signed.url;
    },

    async listParts(key, multipartId) {
      const parts: StoredPart[] = [];
      let marker = '0';
      for (;;) {
        const query = `?uploadId=${encodeURIComponent(multipartId)}&part-number-marker=${marker}`;
        const response = await send(urlOf(key, query), { method: 'GET' }, true);
        if (response.status === 404) {
          await response.body?.cancel();
          return undefined;
        }
        const text = await textOf(response);
        for (const part of elements(text, 'Part')) {
          parts.push({
            partNumber: Number(element(part, 'PartNumber')),
            size: Number(element(part, 'Size')),
            etag: element(part, 'ETag') ?? '',
          });
        }
        if (element(text, 'IsTruncated') !== 'true') return parts.sort((a, b) => a.partNumber - b.partNumber);
        marker = element(text, 'NextPartNumberMarker') ?? String(parts.at(-1)?.partNumber ?? 0);
      }
    },

    async completeMultipart(key, multipartId, parts) {
      const body = `<CompleteMultipartUpload>${parts
        .map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${escapeXml(part.etag)}</ETag></Part>`)
        .join('')}</CompleteMultipartUpload>`;
      const response = await send(
        urlOf(key, `?uploadId=${encodeURIComponent(multipartId)}`),
        { method: 'POST', headers: { 'content-type': 'application/xml' }, body },
        false,
        copyTimeoutMs,
      );
      await checkBody(response, 'to join the parts');
    },

    async abortMultipart(key, multipartId) {
      const response = await send(
        urlOf(key, `?uploadId=${encodeURIComponent(multipartId)}`),
        { method: 'DELETE' },
        true,
      );
      await response.body?.cancel();
    },

    async sweepStaging(olderThanMs) {
      const cutoff = Date.now() - olderThanMs;
      let removed = 0;
      let token: string | undefined;
      do {
        const query = `?list-type=2&prefix=${encodeURIComponent(prefix + stagingRoot)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`;
        const text = await textOf(await send(`${base}${query}`, { method: 'GET' }));
        for (const item of elements(text, 'Contents')) {
          const key = element(item, 'Key');
          const modified = Date.parse(element(item, 'LastModified') ?? '');
          if (key === undefined || !(modified < cutoff)) continue;
          await remove(key.slice(prefix.length));
          removed += 1;
        }
        token = element(text, 'IsTruncated') === 'true' ? element(text, 'NextContinuationToken') : undefined;
      } while (token);
      return removed;
    },
  };
}
