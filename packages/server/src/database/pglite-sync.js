// @ts-check
// Durability of the embedded database in a directory. PostgreSQL makes a commit durable by syncing
// the WAL before it answers, and a checkpoint by syncing the data files before it recycles older
// WAL. Out of the box, in PGlite neither reaches the disk: PGlite starts PostgreSQL with fsync off
// (`-F`), its Node file system (emscripten's NODEFS) has no fsync (the call returns 0 and does
// nothing), and emscripten's fdatasync, PostgreSQL's default way to sync the WAL, is a stub that
// never reaches a file system at all. So an acknowledged write sat in the OS page cache only.
//
// 'sync' turns all three back on, and leaves the rest to PostgreSQL, which knows what it wrote:
// fsync on, the WAL synced with fsync() (which reaches the file system), and the file system's
// fsync made real (fdatasync for a file, fsync for a directory). PostgreSQL then syncs, as on a
// server: the WAL at each commit that wrote any, before the commit returns (a read syncs
// nothing); at each checkpoint, before old WAL is recycled, the data files it wrote, pg_control
// and the directories it changed. Nothing here guesses from timestamps what was written.
import { closeSync, fdatasyncSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** The durability settings of a database in a directory; an in-memory database has none. */
export const durabilities = /** @type {const} */ (['sync', 'none']);

/** @typedef {(typeof durabilities)[number]} Durability */

/**
 * @typedef {{ node: { mode: number }, nfd?: number }} NodeStream
 * @typedef {{
 *   FS: { isDir(mode: number): boolean },
 *   NODEFS?: { stream_ops?: { fsync?: (stream: NodeStream) => void }, tryFSOperation<T>(run: () => T): T },
 * }} NodeModule
 */

/**
 * NODEFS whose fsync reaches the disk. Installed before PostgreSQL starts, so that the recovery
 * after a crash (replay, then a checkpoint that recycles the replayed WAL) is synced too.
 */
class SyncingNodeFS extends NodeFS {
  /** Calls of fsync that reached the disk: proof at open that the chain from PostgreSQL works. */
  syncs = 0;

  /**
   * @override
   * @param {PGlite} pg
   * @param {Parameters<NodeFS['init']>[1]} options
   */
  async init(pg, options) {
    const result = await super.init(pg, options);
    const preRun = result.emscriptenOpts.preRun ?? [];
    preRun.push((/** @type {any} */ mod) => {
      const { FS, NODEFS } = /** @type {NodeModule} */ (mod);
      const streamOps = NODEFS?.stream_ops;
      if (!NODEFS || !streamOps) throw unsupported();
      // An error (EIO, ENOSPC) goes back to PostgreSQL as an errno: it then PANICs rather than
      // carry on as if the data were safe, as it does on any server.
      streamOps.fsync = (stream) =>
        NODEFS.tryFSOperation(() => {
          if (stream.nfd === undefined) return;
          if (FS.isDir(stream.node.mode)) fsyncSync(stream.nfd);
          else fdatasyncSync(stream.nfd);
          this.syncs++;
        });
    });
    result.emscriptenOpts.preRun = preRun;
    return result;
  }
}

/** The error of a PGlite whose fsync cannot be made real; its code is stable, its message says what to do. */
const unsupported = () =>
  Object.assign(
    new Error(
      'Plinth cannot sync the embedded database to disk with this version of @electric-sql/pglite ' +
        '(its file system changed); install the version @plinth/server lists, or set ' +
        'PLINTH_DATABASE_SYNC=off to run without syncing.',
    ),
    { code: 'database_sync_unsupported' },
  );

/** PGlite's own start parameters with fsync on and the WAL synced by fsync(), not the fdatasync stub. */
function syncingStartParams() {
  return [
    ...PGlite.defaultStartParams.filter((param) => param !== '-F'),
    '-c',
    'fsync=on',
    '-c',
    'wal_sync_method=fsync',
  ];
}

/**
 * Opens PGlite in memory, or in a directory with the given durability: 'sync' (the default) syncs
 * each commit's WAL before the commit returns and each checkpoint's files; 'none' syncs nothing
 * (PGlite's own behaviour: a process kill loses nothing, an OS crash or power cut can).
 *
 * @param {string} location `'memory'` or a directory
 * @param {unknown} [durability] `'sync'` or `'none'`; ignored in memory
 * @returns {Promise<PGlite>}
 * @example
 * ```js
 * const db = await openPglite('.plinth/data', 'sync');
 * await db.query('INSERT INTO notes (body) VALUES ($1)', ['on disk once this resolves']);
 * ```
 */
export async function openPglite(location, durability = 'sync') {
  if (location === 'memory') {
    const db = new PGlite();
    await db.waitReady;
    return db;
  }
  if (!durabilities.includes(/** @type {Durability} */ (durability))) {
    throw Object.assign(
      new Error(`Unknown durability ${JSON.stringify(durability)} for the embedded database: use 'sync' or 'none'.`),
      { code: 'invalid_durability' },
    );
  }
  if (durability === 'none') {
    const db = new PGlite(location);
    await db.waitReady;
    return db;
  }
  const fs = new SyncingNodeFS(location);
  const db = new PGlite({ fs, startParams: syncingStartParams() });
  await db.waitReady;
  try {
    // A checkpoint syncs at least pg_control: if none of it reached the disk, fsync is not wired
    // through, and running on would silently break the promise.
    const before = fs.syncs;
    await db.exec('CHECKPOINT');
    if (fs.syncs === before) throw unsupported();
    // Files PostgreSQL never syncs itself: a new directory's files (copied in by PGlite, not
    // written by PostgreSQL) and anything left unsynced by an earlier run with 'none'.
    syncTree(location);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  return db;
}

/**
 * Syncs every file and directory under `root`, then the directory holding it, so that all of it
 * survives an OS crash or power cut. Files that vanish during the walk are skipped.
 *
 * @param {string} root a directory
 * @example
 * ```js
 * syncTree('.plinth/data');
 * ```
 */
export function syncTree(root) {
  const visit = (/** @type {string} */ dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) syncPath(path, false);
    }
    // A directory after its entries: its new names point at files already on disk.
    syncPath(dir, true);
  };
  visit(root);
  syncPath(dirname(resolve(root)), true);
}

/** fdatasync a file or fsync a directory, by path. */
function syncPath(/** @type {string} */ path, /** @type {boolean} */ directory) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (directory) fsyncSync(fd);
    else fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
