import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, isAbsolute, join, relative } from 'node:path';

// Two processes on one PGlite directory corrupt it: each runs its own PostgreSQL over the same
// files, neither sees the other's writes, and their pages overwrite each other. A lock file in
// the directory lets only one in at a time.

/** The lock file's name, inside the database directory (PostgreSQL ignores files it does not know there). */
export const lockFileName = '.plinth-lock';

/** What a lock file says about the process that holds the directory. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** When the lock was taken, ISO 8601. */
  startedAt: string;
  /** What the process runs (`plinth start`, `plinth keys rotate`). */
  command: string;
  /**
   * Linux: the process's start time (field 22 of `/proc/<pid>/stat`). With it a pid the system
   * gave to another process after the holder died — every restart of a container's pid 1 — is
   * not mistaken for the holder.
   */
  processStart?: string;
}

/**
 * The database directory is locked by another process, or by an earlier lock of this one.
 * `code` is stable (`database_in_use`); the message names the holder and what to do.
 */
export class DirectoryInUseError extends Error {
  readonly code = 'database_in_use';
  constructor(
    readonly directory: string,
    /** Undefined when the lock file cannot be read (see {@link lockDirectory}). */
    readonly holder: LockHolder | undefined,
  ) {
    const shown = shownPath(directory);
    const file = join(shown, lockFileName);
    let message: string;
    if (!holder) {
      message =
        `the database directory ${shown} has a lock file that cannot be read (${file}): another process may be ` +
        `opening the directory right now, or one was killed while it did. If no process uses the directory, delete ${file}.`;
    } else {
      const who = `process ${holder.pid} (${holder.command}, since ${holder.startedAt} on host ${holder.hostname})`;
      message =
        holder.hostname === hostname()
          ? `the database directory ${shown} is in use by ${who}; stop that process first, or do this through the running server.`
          : `the database directory ${shown} is in use by ${who}; this host cannot tell whether that process still runs. ` +
            `Stop it first; if it is gone, delete ${file}.`;
    }
    super(message);
    this.name = 'DirectoryInUseError';
  }
}

/** The directory as the user knows it: relative to the working directory when it is inside it. */
function shownPath(directory: string): string {
  if (!isAbsolute(directory)) return directory;
  const inside = relative(process.cwd(), directory);
  return inside === '' ? '.' : inside.startsWith('..') || isAbsolute(inside) ? directory : inside;
}

/** Linux only: a process's start time in clock ticks since boot, or undefined (no /proc, no such process). */
function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name (field 2) is in parentheses and may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** What this process runs, for the lock file: `plinth keys rotate` from the CLI, else the script's name. */
function currentCommand(): string {
  const [, script = '', ...args] = process.argv;
  const name = /(^|[\\/])(plinth|bin\.[cm]?[jt]s)$/.test(script) ? 'plinth' : basename(script) || 'node';
  // Subcommands only: the first words before any option, never option values (which may be secrets).
  const words: string[] = [];
  for (const arg of args) {
    if (words.length === 2 || !/^[a-z][a-z-]*$/.test(arg)) break;
    words.push(arg);
  }
  return [name, ...words].join(' ');
}

/** A lock file's holder, or undefined when it is not one (not JSON, fields missing). */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    const valid =
      Number.isInteger(value.pid) &&
      (value.pid as number) > 0 &&
      typeof value.hostname === 'string' &&
      typeof value.startedAt === 'string' &&
      typeof value.command === 'string' &&
      (value.processStart === undefined || typeof value.processStart === 'string');
    return valid ? (value as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** True unless the holder is known to be gone: on another host it cannot be known, so it counts as alive. */
function holderAlive(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists and belongs to another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStartOf(holder.pid);
  return holder.processStart === undefined || start === undefined || start === holder.processStart;
}

/** The file's text, or undefined when it is gone. */
function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Removes a stale lock file whose text was `stale`. Another process may have removed it and
 * taken the lock in the meantime: the file is moved aside first (one process wins the move),
 * and put back if what was moved is not what was judged stale. Left open: a third process
 * taking the lock in the instant the file is aside; three processes starting on one directory
 * at once, one of them over a stale lock.
 */
function removeStale(file: string, stale: string): void {
  const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== stale) {
      try {
        linkSync(aside, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  } finally {
    unlinkSync(aside);
  }
}

/** A lock taken by {@link lockDirectory}. */
export interface DirectoryLock {
  /** Removes the lock file, if it is still this lock's. Idempotent. */
  release(): void;
}

/**
 * Takes the exclusive lock on a database directory (which must exist): creates
 * `<dir>/.plinth-lock` (`O_EXCL`) holding `{ pid, hostname, startedAt, command, processStart }`,
 * removed by `release()` or when the process exits. A lock whose process is gone (a `kill -9`,
 * a crash) is stale and taken over; a live holder, this process included, makes it throw
 * {@link DirectoryInUseError}. A lock file from another host is never judged stale, since its
 * process cannot be checked from here.
 *
 * A lock file that is not a lock (not JSON, fields missing) is refused, not taken over, as
 * PostgreSQL does with its postmaster.pid: it is most likely a lock that another process has
 * created and not yet written, and taking that over would let both in. The error says to
 * delete the file when no process uses the directory.
 *
 * @example
 * ```ts
 * const lock = lockDirectory('.plinth/data', { command: 'plinth start' });
 * try {
 *   // … only this process opens the directory …
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export function lockDirectory(dir: string, options: { command?: string } = {}): DirectoryLock {
  const file = join(dir, lockFileName);
  const processStart = processStartOf(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    command: options.command ?? currentCommand(),
    ...(processStart === undefined ? {} : { processStart }),
  };
  const text = `${JSON.stringify(holder)}\n`;
  // Each pass takes the lock, refuses, or finds one stale file removed; the bound stops two
  // processes that keep replacing each other's files from looping.
  for (let attempt = 0; attempt < 10; attempt++) {
    let fd: number | undefined;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      return held(file, text);
    }
    const found = readIfThere(file);
    if (found === undefined) continue;
    const existing = parseHolder(found);
    if (!existing || holderAlive(existing)) throw new DirectoryInUseError(dir, existing);
    removeStale(file, found);
  }
  throw new Error(`Plinth could not lock the database directory ${dir}: ${file} kept changing. Try again.`);
}

/** The lock just written as `text`, released by `release()` or when the process exits. */
function held(file: string, text: string): DirectoryLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', atExit);
    // Only this lock's file: never one another process wrote after taking this one over.
    if (readIfThere(file) === text) unlinkSync(file);
  };
  // Any exit that runs JavaScript (process.exit, the end of the event loop, an uncaught error)
  // releases it; a kill -9 leaves a stale lock, taken over by the next process.
  const atExit = () => {
    try {
      release();
    } catch {
      // Exiting anyway: the lock file left behind is stale and taken over.
    }
  };
  process.on('exit', atExit);
  return { release };
}
