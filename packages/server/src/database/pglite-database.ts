import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AppSchemaFile } from './app-schema.js';
import { applySchema } from './apply-schema.js';
import { type Database, type Queryable, type StatementResult, serverRole } from './database.js';
import { lockDirectory } from './directory-lock.js';

// After an app's data statements, the one session goes back to the server as it was: the role
// and session authorization reset, settings back to their defaults, and anything the statements
// left in the session (advisory locks, cursors, prepared statements, temporary tables, sequence
// caches) gone. UNLISTEN is not here: the server's own listeners share the session.
const resetAfterData = [
  'RESET SESSION AUTHORIZATION',
  'RESET ROLE',
  'RESET ALL',
  'SELECT pg_advisory_unlock_all()',
  'CLOSE ALL',
  'DEALLOCATE ALL',
  'DISCARD TEMP',
  'DISCARD SEQUENCES',
  `SET ROLE ${serverRole}`,
].join('; ');

/** The worker thread's script, beside this module in the sources (the package ships `src/`). */
function workerScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    for (const candidate of [join(dir, 'pglite-worker.js'), join(dir, 'src', 'database', 'pglite-worker.js')]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error('Plinth cannot find src/database/pglite-worker.js; the @plinth/server install is incomplete.');
}

/** Whether PGlite in a directory syncs each commit to disk before answering (`'sync'`) or not. */
export type PgliteDurability = 'sync' | 'none';

/** How long a forced close waits for the statement PGlite is running before it stops the thread, in ms. */
const forcedGraceMs = 1_000;

/**
 * The error of a call refused because the server is stopping: PostgreSQL's own code for an
 * administrator's shutdown, which the server answers with 503 and `Retry-After`.
 */
function shuttingDownError(): Error {
  return Object.assign(new Error('The embedded database is closing: the server is stopping; try again in a moment.'), {
    code: '57P01',
  });
}

/** An error from the worker, made an Error again with PostgreSQL's fields (code, detail, …). */
function revive(plain: Record<string, unknown>): Error {
  return Object.assign(new Error(String(plain.message)), plain);
}

/**
 * Embedded PostgreSQL (PGlite), in memory or persisted in a directory, on a worker thread of its
 * own so that a slow statement never blocks the server's event loop. PGlite has one session:
 * calls take turns, and a transaction holds the session until it ends. The schema is applied as
 * the embedded superuser; the session then runs as `plinth_server`. A directory is locked for
 * as long as it is open: another process (or another open in this one) gets a
 * `DirectoryInUseError` naming the holder (see `lockDirectory`).
 *
 * @example
 * ```ts
 * const database = await openPgliteDatabase('memory');
 * ```
 */
export async function openPgliteDatabase(
  location: 'memory' | string,
  options: {
    appSchema?: readonly AppSchemaFile[];
    /**
     * In a directory: `'sync'` (default) puts each commit's WAL on disk before it is answered;
     * `'none'` leaves it to the OS (a kill loses nothing, an OS crash or power cut can). See
     * pglite-sync.js.
     */
    durability?: PgliteDurability;
    /** In a directory: how often a checkpoint runs, in ms. Default 300 000 (PostgreSQL's `checkpoint_timeout`). */
    checkpointEveryMs?: number;
  } = {},
): Promise<Database> {
  const script = workerScript();
  // PGlite creates its own folder but not the ones above it (`.plinth/` on a first run); the
  // lock goes inside it, taken before PGlite touches a file.
  if (location !== 'memory') mkdirSync(location, { recursive: true });
  const lock = location === 'memory' ? undefined : lockDirectory(location);
  const worker = new Worker(script);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let nextId = 0;
  let crashed: Error | undefined;
  worker.on(
    'message',
    (
      message: { id?: number; result?: unknown; error?: Record<string, unknown> } & {
        channel?: string;
        payload?: string;
      },
    ) => {
      if (message.channel !== undefined) {
        for (const listener of listeners.get(message.channel) ?? []) listener(message.payload ?? '');
        return;
      }
      const call = pending.get(message.id as number);
      pending.delete(message.id as number);
      if (message.error) call?.reject(revive(message.error));
      else call?.resolve(message.result);
    },
  );
  const failAll = (error: Error) => {
    crashed = error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`The embedded database's thread stopped (exit code ${code}).`)));

  const send = <T>(op: string, fields: Record<string, unknown> = {}): Promise<T> => {
    if (crashed) return Promise.reject(crashed);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, op, ...fields });
    });
  };

  // One session: a call waits for the one before it, and a transaction keeps its turn until it
  // commits or rolls back, as PGlite's own transactions do. Once a forced close began, calls
  // still waiting for their turn are refused instead of run.
  let turn: Promise<unknown> = Promise.resolve();
  let refusing = false;
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const result = turn.then(() => {
      if (refusing) throw shuttingDownError();
      return work();
    });
    turn = result.catch(() => undefined);
    return result;
  };

  const session: Queryable = {
    query: <Row>(text: string, params: readonly unknown[] = []) => send<Row[]>('query', { text, params: [...params] }),
    run: (text: string, params: readonly unknown[] = []) => send<StatementResult>('run', { text, params: [...params] }),
    execScript: (text: string) => send<void>('exec', { text }),
  };
  const transaction = async <T>(begin: string, work: (tx: Queryable) => Promise<T>, after?: string): Promise<T> =>
    inTurn(async () => {
      try {
        await session.execScript(begin);
        const result = await work(session);
        await session.execScript('COMMIT');
        return result;
      } catch (error) {
        await session.execScript('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        if (after) await session.execScript(after);
      }
    });

  try {
    await send('open', { location, durability: options.durability ?? 'sync' });
    await applySchema((work) => transaction('BEGIN', work), options.appSchema);
    await session.execScript(`SET ROLE ${serverRole}`);
  } catch (error) {
    await worker.terminate();
    lock?.release();
    throw error;
  }
  // PostgreSQL's checkpointer process, which PGlite has none of: without it the WAL grew by every
  // write until the server stopped (1 GB over 4 million rows), and a kill's recovery replayed all
  // of it. As the superuser the session is, between two calls (in turn: no transaction is open).
  const checkpoints =
    location === 'memory'
      ? undefined
      : setInterval(() => {
          inTurn(() => session.execScript(`RESET ROLE; CHECKPOINT; SET ROLE ${serverRole}`)).catch(() => undefined);
        }, options.checkpointEveryMs ?? 300_000).unref();
  return {
    kind: 'pglite',
    query: (text, params) => inTurn(() => session.query(text, params)),
    run: (text, params) => inTurn(() => session.run(text, params)),
    execScript: (text) => inTurn(() => session.execScript(text)),
    transaction: (work) => transaction('BEGIN', work),
    dataTransaction: (setup, work) => transaction(`BEGIN; ${setup}`, work, resetAfterData),
    // One process owns an embedded database: its notifications come from this session.
    listen: async (channel, onMessage) => {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await inTurn(() => send('listen', { channel }));
      }
      set.add(onMessage);
      return async () => {
        set.delete(onMessage);
        if (set.size === 0 && listeners.get(channel) === set) {
          listeners.delete(channel);
          await inTurn(() => send('unlisten', { channel }));
        }
      };
    },
    close: async (closeOptions = {}) => {
      clearInterval(checkpoints);
      try {
        if (closeOptions.force) {
          // PGlite cannot cancel the statement it is running (it runs synchronously on its
          // thread): that one gets a moment to end, then the thread is stopped, which the
          // directory survives like a killed process (PostgreSQL's recovery at the next open).
          refusing = true;
          const closed = turn.then(() => (crashed ? undefined : send('close')));
          await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, forcedGraceMs).unref())]);
        } else if (!crashed) await inTurn(() => send('close'));
      } finally {
        await worker.terminate();
        // Only once PGlite's thread is gone: the next process must not open files it still writes.
        lock?.release();
      }
    },
  };
}
