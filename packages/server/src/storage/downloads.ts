import { Readable } from 'node:stream';
import { createDownloadUrlRoute, downloadRoute, type ObjectInfo, publicDownloadRoute } from '@plinth/protocol';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import type { ServerServices } from '../server-services.js';
import { isMarkupType } from './content-sniff.js';

/**
 * The byte range a `Range` header asks for, inclusive; undefined for the whole object (no header,
 * or one this server answers whole: another unit, several ranges). A 416 when it starts past the
 * end. Exported for tests.
 *
 * @example
 * ```ts
 * byteRange('bytes=0-99', 1000); // { start: 0, end: 99 }
 * byteRange('bytes=-100', 1000); // { start: 900, end: 999 }
 * ```
 */
export function byteRange(header: string | null, size: number): { start: number; end: number } | undefined {
  const match = header === null ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '') {
    // The last N bytes.
    const length = Math.min(Number(last), size);
    if (length === 0) throw unsatisfiable(size);
    return { start: size - length, end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) throw unsatisfiable(size);
  return { start, end };
}

const unsatisfiable = (size: number) =>
  new HttpError(
    'range_not_satisfiable',
    `The range asked for is outside the object, which is ${size} bytes long.`,
    { field: 'range', size },
    { 'content-range': `bytes */${size}` },
  );

/** `attachment; filename=…` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187). */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The answer for one object: its bytes (or the range asked for), with its type, length, ETag and
 * `Accept-Ranges`; a 304 when `If-None-Match` names its ETag. Types a browser would run (HTML,
 * SVG, XML) always go as attachments, so an uploaded page cannot run under this server's origin;
 * `download` names the file to save as.
 */
async function objectAnswer(
  services: ServerServices,
  request: Request,
  found: { object: ObjectInfo; blob: string },
  options: { download: string | undefined; cache: string },
): Promise<Response> {
  const { object, blob } = found;
  const headers: Record<string, string> = {
    etag: object.etag,
    'cache-control': options.cache,
    'accept-ranges': 'bytes',
    'last-modified': new Date(object.updatedAt).toUTCString(),
  };
  const tags = request.headers.get('if-none-match');
  if (tags !== null && (tags.trim() === '*' || tags.split(',').some((tag) => tag.trim() === object.etag))) {
    return new Response(null, { status: 304, headers });
  }
  const range = byteRange(request.headers.get('range'), object.size);
  const bytes = await services.storage.driver.read(blob, range);
  if (!bytes) throw new HttpError('not_found', `There is no object ${object.key} in bucket ${object.bucket}.`);
  headers['content-type'] = object.contentType;
  headers['content-length'] = String(range ? range.end - range.start + 1 : object.size);
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
  const name = options.download ?? (isMarkupType(object.contentType) ? object.key.split('/').pop() : undefined);
  if (name !== undefined) headers['content-disposition'] = attachment(name);
  // The local driver gives a file stream already; anything else is wrapped once.
  const stream = bytes instanceof Readable ? bytes : Readable.from(bytes);
  const body = Readable.toWeb(stream) as ReadableStream<Uint8Array>;
  return new Response(body, { status: range ? 206 : 200, headers });
}

/**
 * `POST /v1/storage/buckets/:bucket/download-urls`: a signed URL that reads one object.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [createDownloadUrlHandler] });
 * ```
 */
export const createDownloadUrlHandler = defineHandler(createDownloadUrlRoute, async ({ input, services }) =>
  services.storage.createDownloadUrl(input.bucket, input.key, input),
);

/**
 * `GET /v1/storage/objects/:bucket?key=…`: an object through a signed URL (the auth guard checked
 * the signature and expiry).
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [downloadHandler] });
 * ```
 */
export const downloadHandler = defineHandler(downloadRoute, async ({ input, request, services }) =>
  objectAnswer(services, request, await services.storage.locate(input.bucket, input.key), {
    download: input.download,
    // Only the holder of the URL may read it, and only until it expires.
    cache: 'private, max-age=60',
  }),
);

/**
 * `GET /v1/storage/public/:bucket?key=…`: an object of a public bucket; a private bucket's
 * objects are 404 here, like missing ones.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'storage', handlers: [publicDownloadHandler] });
 * ```
 */
export const publicDownloadHandler = defineHandler(publicDownloadRoute, async ({ input, request, services }) =>
  objectAnswer(services, request, await services.storage.locate(input.bucket, input.key, { publicOnly: true }), {
    download: input.download,
    // Revalidated with the ETag each time: an object replaced under its key shows at once.
    cache: 'public, no-cache',
  }),
);
