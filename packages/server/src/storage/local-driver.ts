import { randomBytes } from 'node:crypto';
import { type FileHandle, lstat, mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { byteTally } from './byte-tally.js';
import type { ByteRange, LocalStorageDriver, StagedObject, WriteLimits } from './storage-driver.js';

/** Options of {@link createLocalDriver}. */
export interface LocalDriverOptions {
  /** The directory that holds `objects/` and `staging/`; created on first write. Both must be on one filesystem. */
  readonly root: string;
}

const stagingSuffix = '.part';
// Objects are users' files: readable by the server's own user only, whatever the umask.
const objectFileMode = 0o600;
// A concurrent `remove` may delete a parent directory between our mkdir and rename; each retry
// recreates it. More than a handful of losses in a row means something else is wrong.
const commitAttempts = 8;

/**
 * Stores objects as files under `<root>/objects/<bucket>/<object key>`, written first to
 * `<root>/staging/` and renamed into place, so a reader sees the old object or the new one and
 * never part of either. A staged file is fsynced before {@link LocalStorageDriver.stage} resolves and
 * the directory after a commit, so a committed object survives a crash.
 *
 * Keys are paths here, so one key cannot be both an object and a folder of others: with `b/a`
 * stored, committing `b/a/c` fails (and the other way round) with an error that says so.
 *
 * @example
 * ```ts
 * const driver = createLocalDriver({ root: '/var/lib/plinth/storage' });
 * const staged = await driver.stage(request.body, { maxBytes: 50 * 1024 * 1024 });
 * try {
 *   await staged.commit(`avatars/${userId}.png`);
 * } finally {
 *   await staged.discard(); // a no-op once committed
 * }
 * ```
 */
export function createLocalDriver({ root }: LocalDriverOptions): LocalStorageDriver {
  if (typeof root !== 'string' || root === '') {
    throw new TypeError('The local storage driver needs a root directory; set the storage root to a path.');
  }
  const objectsDirectory = resolve(root, 'objects');
  const stagingDirectory = resolve(root, 'staging');

  const objectPath = (key: string): string => {
    assertSafeKey(key);
    const path = join(objectsDirectory, ...key.split('/'));
    // Belt and braces: assertSafeKey already rules out every way out, but a path under root is
    // the property that matters, so check the property itself too.
    if (!path.startsWith(objectsDirectory + sep)) throw new UnsafeKeyError(key, 'it resolves outside the storage root');
    return path;
  };

  const driver: LocalStorageDriver = {
    kind: 'local',

    async stage(body: AsyncIterable<Uint8Array>, { maxBytes }: WriteLimits): Promise<StagedObject> {
      if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a number ≥ 0, got ${maxBytes}.`);
      await mkdir(stagingDirectory, { recursive: true });
      const stagingPath = join(stagingDirectory, `${randomBytes(16).toString('hex')}${stagingSuffix}`);
      const file = await open(stagingPath, 'wx', objectFileMode);
      const tally = byteTally(maxBytes);
      try {
        // for-await calls the body's return() when we throw, so an oversized upload stops being
        // read at once (a Node stream is destroyed) instead of being drained to the end.
        const writer = overlappedWriter(file);
        for await (const chunk of body) {
          tally.add(chunk);
          await writer.add(chunk);
        }
        await writer.finish();
      } catch (error) {
        await file.close().catch(() => undefined);
        await unlinkIfPresent(stagingPath);
        throw error;
      }
      try {
        await file.close();
      } catch (error) {
        await unlinkIfPresent(stagingPath);
        throw error;
      }

      let state: 'staged' | 'committing' | 'committed' | 'discarded' = 'staged';
      return {
        ...tally.result(),

        async commit(key: string): Promise<void> {
          const target = objectPath(key);
          if (state !== 'staged') {
            throw new Error(
              state === 'discarded'
                ? 'This upload was discarded, so there is nothing to commit; upload it again.'
                : `This upload is ${state === 'committing' ? 'being' : 'already'} committed; upload it again to store another copy.`,
            );
          }
          state = 'committing';
          try {
            await moveIntoPlace(stagingPath, target, key);
          } catch (error) {
            // Still staged unless discard() ran meanwhile: the caller may discard or retry.
            if (state === 'committing') state = 'staged';
            throw error;
          }
          state = 'committed';
        },

        async discard(): Promise<void> {
          if (state === 'committed') return;
          state = 'discarded';
          await unlinkIfPresent(stagingPath);
        },
      };
    },

    async read(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array> | undefined> {
      const path = objectPath(key);
      if (range) assertRange(range);
      let file: FileHandle;
      try {
        file = await open(path, 'r');
      } catch (error) {
        if (isNoObjectError(error)) return undefined;
        throw error;
      }
      // Streaming from the open handle, not the path: a commit that replaces the object while
      // this read runs swaps the name, not the bytes this reader already holds.
      try {
        if (!(await file.stat()).isFile()) {
          await file.close();
          return undefined;
        }
      } catch (error) {
        await file.close().catch(() => undefined);
        throw error;
      }
      return file.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async remove(key: string): Promise<void> {
      const path = objectPath(key);
      try {
        await unlink(path);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOTDIR') return;
        // A folder of other objects, not an object (macOS says EPERM where Linux says EISDIR).
        if (code === 'EISDIR' || (code === 'EPERM' && (await isDirectory(path)))) return;
        if (code !== 'ENOENT') throw error;
      }
      await removeEmptyParents(dirname(path), objectsDirectory);
    },

    async copy(from: string, to: string): Promise<void> {
      const bytes = await driver.read(from);
      if (!bytes) throw new Error(`There are no bytes under ${JSON.stringify(from)} to copy.`);
      const staged = await driver.stage(bytes, { maxBytes: Number.POSITIVE_INFINITY });
      try {
        await staged.commit(to);
      } finally {
        await staged.discard();
      }
    },

    async sweepStaging(olderThanMs: number): Promise<number> {
      if (!(olderThanMs >= 0)) throw new RangeError(`olderThanMs must be a number ≥ 0, got ${olderThanMs}.`);
      const cutoff = Date.now() - olderThanMs;
      let entries: string[];
      try {
        entries = await readdir(stagingDirectory);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return 0;
        throw error;
      }
      let removed = 0;
      for (const name of entries) {
        if (!name.endsWith(stagingSuffix)) continue;
        const path = join(stagingDirectory, name);
        try {
          const stats = await lstat(path);
          // A write in progress touches its file with every chunk, so only stalled or
          // abandoned writes are this old.
          if (!stats.isFile() || stats.mtimeMs >= cutoff) continue;
          await unlink(path);
          removed += 1;
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw error;
        }
      }
      return removed;
    },
  };
  return driver;
}

/** A key the local driver refuses because, as a path, it could leave the storage root or alias another key. */
class UnsafeKeyError extends Error {
  override readonly name = 'UnsafeKeyError';
  constructor(key: string, reason: string) {
    super(`The storage key ${JSON.stringify(key)} is refused: ${reason}.`);
  }
}

function assertSafeKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new UnsafeKeyError(String(key), 'it is empty');
  if (key.includes('\0')) throw new UnsafeKeyError(key, 'it contains a NUL byte');
  // A separator on Windows, and never needed in a key that is already split on `/`.
  if (key.includes('\\')) throw new UnsafeKeyError(key, 'it contains a backslash');
  if (key.startsWith('/')) throw new UnsafeKeyError(key, 'it starts with "/"');
  for (const segment of key.split('/')) {
    if (segment === '') throw new UnsafeKeyError(key, 'it has an empty segment ("//" or a trailing "/")');
    // `.` would make `a/./b` a second name for `a/b`; `..` climbs out.
    if (segment === '.' || segment === '..') throw new UnsafeKeyError(key, `it has a "${segment}" segment`);
  }
}

function assertRange({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(
      `A byte range needs whole numbers with 0 ≤ start ≤ end (both inclusive), got ${start}-${end}.`,
    );
  }
}

// Chunks gathered into one write while the one before is on its way to the disk.
const batchBytes = 1024 * 1024;
// Written bytes flushed to the disk in the background every so often, so that the fsync before
// an upload's answer waits for the last few MiB only, not for the whole file.
const flushEveryBytes = 32 * 1024 * 1024;

/**
 * Writes a stream's chunks to `file` while the next ones arrive: they gather while a write is in
 * flight and go in the next one together (one writev), so reading the socket and writing the
 * disk overlap instead of taking turns. At most one write is in flight and one batch waits:
 * memory stays flat. Every {@link flushEveryBytes} a datasync starts beside the writes.
 * `finish` resolves once every byte is written and on the disk; a failed write or sync rejects
 * the `add` or `finish` after it.
 */
function overlappedWriter(file: FileHandle) {
  let inFlight: Promise<void> | undefined;
  let flushing: Promise<void> | undefined;
  let batch: Uint8Array[] = [];
  let batchSize = 0;
  let unflushed = 0;
  const start = () => {
    inFlight = writeAllOf(file, batch, batchSize);
    // Seen by the next add or finish; not an unhandled rejection meanwhile.
    inFlight.catch(() => undefined);
    unflushed += batchSize;
    batch = [];
    batchSize = 0;
  };
  return {
    async add(chunk: Uint8Array): Promise<void> {
      batch.push(chunk);
      batchSize += chunk.byteLength;
      if (batchSize < batchBytes) return;
      await inFlight;
      if (unflushed >= flushEveryBytes) {
        // One at a time: the one before has had a whole interval to finish.
        await flushing;
        flushing = file.datasync();
        flushing.catch(() => undefined);
        unflushed = 0;
      }
      start();
    },
    async finish(): Promise<void> {
      await inFlight;
      if (batchSize > 0) start();
      await inFlight;
      await flushing;
      await file.sync();
    },
  };
}

async function writeAllOf(file: FileHandle, chunks: Uint8Array[], size: number): Promise<void> {
  const { bytesWritten } = await file.writev(chunks);
  // POSIX allows a short write; finish the rest rather than lose the tail.
  if (bytesWritten < size) await writeAll(file, Buffer.concat(chunks).subarray(bytesWritten));
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  // POSIX allows a short write; loop rather than lose the tail of a chunk.
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

async function moveIntoPlace(stagingPath: string, target: string, key: string): Promise<void> {
  const parent = dirname(target);
  for (let attempt = 1; ; attempt += 1) {
    let firstCreated: string | undefined;
    try {
      firstCreated = await mkdir(parent, { recursive: true });
      await rename(stagingPath, target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') {
        if (!(await exists(stagingPath))) {
          throw new Error(
            'The staged upload is gone (discarded, or swept as stale before its commit); upload it again.',
            { cause: error },
          );
        }
        // The parent was removed by a concurrent remove() emptying it; make it again.
        if (attempt < commitAttempts) continue;
      }
      throw explainCommitError(error, key);
    }
    await syncDirectories(parent, firstCreated);
    return;
  }
}

function explainCommitError(error: unknown, key: string): unknown {
  const code = errorCode(error);
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    return new Error(
      `Cannot store ${JSON.stringify(key)}: a shorter key that is a prefix of it is already an object, and the local driver cannot hold both "a/b" and "a/b/c". Remove that object or choose another key.`,
      { cause: error },
    );
  }
  if (code === 'EISDIR' || code === 'ENOTEMPTY') {
    return new Error(
      `Cannot store ${JSON.stringify(key)}: other objects are stored under it as a folder, and the local driver cannot hold both "a/b" and "a/b/c". Choose another key.`,
      { cause: error },
    );
  }
  if (code === 'ENAMETOOLONG') {
    return new Error(
      `Cannot store ${JSON.stringify(key)}: the filesystem refuses a name that long; keep each "/"-separated part under 255 bytes.`,
      { cause: error },
    );
  }
  if (code === 'EXDEV') {
    return new Error(
      'Cannot move a staged upload into objects/: staging/ and objects/ under the storage root are on different filesystems; keep them on one.',
      { cause: error },
    );
  }
  return error;
}

/**
 * fsyncs the directory that received the rename and, when mkdir made new directories, each
 * directory above them that gained an entry, so the object's path survives a crash too.
 */
async function syncDirectories(parent: string, firstCreated: string | undefined): Promise<void> {
  // Windows cannot open a directory to fsync it, and NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const stopAt = firstCreated === undefined ? parent : dirname(firstCreated);
  let directory = parent;
  await syncDirectory(directory);
  while (directory.length > stopAt.length) {
    directory = dirname(directory);
    await syncDirectory(directory);
  }
}

async function syncDirectory(path: string): Promise<void> {
  let directory: FileHandle;
  try {
    directory = await open(path, 'r');
  } catch (error) {
    // Gone already: a concurrent remove() took the object and emptied the folder; nothing to keep.
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  try {
    await directory.sync();
  } catch (error) {
    // Some filesystems (certain network and FUSE ones) cannot fsync a directory at all; that is
    // their durability, not an error of this write.
    const code = errorCode(error);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await directory.close();
  }
}

/**
 * Removes `directory` and its parents while they are empty, stopping below `objectsDirectory`.
 * Best effort: the object is already gone, and a leftover empty folder costs nothing and is
 * tried again by the next removal in it.
 */
async function removeEmptyParents(directory: string, objectsDirectory: string): Promise<void> {
  while (directory.startsWith(objectsDirectory + sep)) {
    try {
      await rmdir(directory);
    } catch (error) {
      // ENOENT: a concurrent remove got there first, and the parent may be empty now too.
      if (errorCode(error) !== 'ENOENT') return;
    }
    directory = dirname(directory);
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** No object under this key: nothing there, a file where a folder would be, or a folder. */
function isNoObjectError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
