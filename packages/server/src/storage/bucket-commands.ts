import { bucketName, contentType, maxObjectBytesLimit } from '@plinth/protocol';
import type { Database } from '../database/database.js';
import { HttpError } from '../http/http-error.js';
import { createBucket, listBuckets } from './bucket-store.js';

/** Where the `plinth buckets` commands write. */
export interface BucketsCommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** A usage mistake in `plinth buckets …`: printed as one line, exit code 2. */
export class BucketsUsageError extends Error {
  override readonly name = 'BucketsUsageError';
}

const byteSize = (raw: string): number => {
  const match = /^(\d{1,16})([kmgt]i?b?)?$/i.exec(raw.trim());
  const unit = match?.[2]?.toLowerCase()[0];
  const bytes = match ? Number(match[1]) * 1024 ** (unit ? 'kmgt'.indexOf(unit) + 1 : 0) : 0;
  if (!(bytes >= 1 && bytes <= maxObjectBytesLimit))
    throw new BucketsUsageError(
      `--max-bytes: must be a size from 1 byte to 5 TiB, like 5000000, 20MiB or 1GiB; got ${JSON.stringify(raw)}.`,
    );
  return bytes;
};

function parseCreate(args: readonly string[]) {
  const [name, ...rest] = args;
  if (name === undefined || name.startsWith('--'))
    throw new BucketsUsageError('buckets create: name the bucket first, like plinth buckets create avatars --public.');
  if (!bucketName.safeParse(name).success)
    throw new BucketsUsageError(
      `buckets create: ${JSON.stringify(name)} is not a bucket name; use 3 to 63 lowercase letters, digits and hyphens.`,
    );
  const request: { name: string; public?: boolean; allowedContentTypes?: string[]; maxObjectBytes?: number } = {
    name,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    if (flag === '--public') {
      request.public = true;
      continue;
    }
    const value = rest[i + 1];
    if (flag !== '--types' && flag !== '--max-bytes')
      throw new BucketsUsageError(`${flag}: not an option here; use --public, --types, --max-bytes.`);
    if (value === undefined) throw new BucketsUsageError(`${flag}: needs a value.`);
    i++;
    if (flag === '--types') {
      const types = value.split(',').map((type) => type.trim());
      const bad = types.find((type) => !contentType.safeParse(type).success);
      if (bad !== undefined)
        throw new BucketsUsageError(
          `--types: ${JSON.stringify(bad)} is not a content type; list them like image/png,image/jpeg.`,
        );
      request.allowedContentTypes = types;
    } else request.maxObjectBytes = byteSize(value);
  }
  return request;
}

/**
 * `plinth buckets create NAME [--public] [--types a/b,c/d] [--max-bytes 20MiB]` and
 * `plinth buckets list`, on the server's database. Resolves with the exit code.
 *
 * @example
 * ```ts
 * await runBucketsCommand(['create', 'avatars', '--types', 'image/png'], () => openDatabase('.plinth/data'), io);
 * ```
 */
export async function runBucketsCommand(
  args: readonly string[],
  open: () => Promise<Database>,
  io: BucketsCommandIo,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create' && sub !== 'list')
    throw new BucketsUsageError(
      'buckets: use plinth buckets create NAME [--public] [--types …] [--max-bytes …], or plinth buckets list.',
    );
  const request = sub === 'create' ? parseCreate(rest) : undefined;
  if (sub === 'list' && rest.length > 0) throw new BucketsUsageError(`buckets list: takes no options; got ${rest[0]}.`);
  const database = await open();
  try {
    if (request) {
      const bucket = await createBucket(database, request);
      io.stdout(
        `Bucket ${bucket.name} made: ${bucket.public ? 'public' : 'private'}, ${bucket.allowedContentTypes.join(',') || 'any type'}, up to ${bucket.maxObjectBytes} bytes per object.`,
      );
      return 0;
    }
    const buckets = await listBuckets(database);
    if (buckets.length === 0) io.stdout('No buckets yet: make one with plinth buckets create NAME.');
    for (const bucket of buckets)
      io.stdout(
        `${bucket.name.padEnd(24)} ${(bucket.public ? 'public' : 'private').padEnd(8)} ${String(bucket.maxObjectBytes).padStart(14)}  ${bucket.allowedContentTypes.join(',') || '(any type)'}`,
      );
    return 0;
  } catch (error) {
    if (error instanceof HttpError) {
      io.stderr(`plinth: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
}
