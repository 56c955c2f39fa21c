import type { Bucket } from '@plinth/protocol';
import type { Queryable } from '../database/database.js';
import { HttpError } from '../http/http-error.js';

/** What a bucket allows unless it says otherwise: 50 MiB per object. */
export const defaultMaxObjectBytes = 50 * 1024 * 1024;

/** A new bucket: its name, whether anyone may read it, its content types (none: any), its size cap. */
export interface BucketRequest {
  name: string;
  public?: boolean | undefined;
  allowedContentTypes?: readonly string[] | undefined;
  maxObjectBytes?: number | undefined;
}

interface BucketRow {
  name: string;
  public: boolean;
  allowed_content_types: string[];
  max_object_bytes: number | string;
  created_at: Date | string;
  updated_at: Date | string;
}

const columns = 'name, public, allowed_content_types, max_object_bytes, created_at, updated_at';

const bucketOf = (row: BucketRow): Bucket => ({
  name: row.name,
  public: row.public,
  allowedContentTypes: row.allowed_content_types,
  maxObjectBytes: Number(row.max_object_bytes),
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});

/**
 * Makes a bucket; a 409 naming `name` when one by that name exists. Used by the storage routes
 * and by `plinth buckets create`.
 *
 * @example
 * ```ts
 * await createBucket(database, { name: 'avatars', allowedContentTypes: ['image/png'] });
 * ```
 */
export async function createBucket(db: Queryable, request: BucketRequest): Promise<Bucket> {
  const [row] = await db.query<BucketRow>(
    `INSERT INTO plinth.storage_buckets (name, public, allowed_content_types, max_object_bytes)
     VALUES ($1, $2, $3::text[], $4) ON CONFLICT (name) DO NOTHING RETURNING ${columns}`,
    [
      request.name,
      request.public ?? false,
      [...new Set(request.allowedContentTypes ?? [])],
      request.maxObjectBytes ?? defaultMaxObjectBytes,
    ],
  );
  if (!row) throw new HttpError('conflict', `A bucket named ${request.name} already exists.`, { field: 'name' });
  return bucketOf(row);
}

/**
 * Every bucket, by name.
 *
 * @example
 * ```ts
 * for (const bucket of await listBuckets(database)) console.log(bucket.name);
 * ```
 */
export async function listBuckets(db: Queryable): Promise<Bucket[]> {
  return (await db.query<BucketRow>(`SELECT ${columns} FROM plinth.storage_buckets ORDER BY name`)).map(bucketOf);
}

/**
 * The bucket named `name`, or undefined.
 *
 * @example
 * ```ts
 * const bucket = await findBucket(database, 'avatars');
 * ```
 */
export async function findBucket(db: Queryable, name: string): Promise<Bucket | undefined> {
  const [row] = await db.query<BucketRow>(`SELECT ${columns} FROM plinth.storage_buckets WHERE name = $1`, [name]);
  return row ? bucketOf(row) : undefined;
}
