import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Durability of the embedded database in a directory, seen from outside: a child process drives
// the PGlite thread (pglite-worker.js, by the messages the server sends it) under
// `strace -f -y -e trace=fsync,fdatasync`, and marks each moment that matters (an answer
// received, a phase begun) with an fsync of a marker file of its own. The trace then shows what
// reached the disk between two marks: with 'sync' (the default), each acknowledged write
// transaction's WAL before its answer, nothing for reads, the data files at a CHECKPOINT; with
// 'none', nothing at all.

const workerScript = fileURLToPath(new URL('../../src/database/pglite-worker.js', import.meta.url));

/** strace, if it is installed and may trace a child here (containers can forbid ptrace). */
const straceWorks = spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;

// The child: argv is the worker's path, the directory, the marker directory, and the durability
// ('default' sends none). It prints one JSON line of facts for the test.
const child = `
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const [workerScript, location, marks, durability] = process.argv.slice(2);
const worker = new Worker(workerScript);
const pending = new Map();
let nextId = 0;
worker.on('message', (message) => {
  const call = pending.get(message.id);
  pending.delete(message.id);
  if (message.error) call.reject(Object.assign(new Error(message.error.message), message.error));
  else call.resolve(message.result);
});
const send = (op, fields = {}) =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, ...fields });
  });
const mark = (name) => {
  const fd = openSync(join(marks, name), 'w');
  fsyncSync(fd);
  closeSync(fd);
};

const facts = {};
try {
  await send('open', durability === 'default' ? { location } : { location, durability });
} catch (error) {
  console.log(JSON.stringify({ openError: error.message }));
  process.exit(0);
}
facts.fsync = (await send('query', { text: 'SHOW fsync' }))[0].fsync;
await send('exec', { text: 'CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)' });
facts.tableFile = (await send('query', { text: "SELECT pg_relation_filepath('notes') AS path" }))[0].path;
mark('writes');
for (let i = 1; i <= 20; i++) {
  await send('run', { text: 'INSERT INTO notes VALUES ($1, $2)', params: [i, 'note ' + i] });
  mark('ack-' + i);
}
await send('exec', { text: 'BEGIN' });
for (let i = 21; i <= 25; i++) {
  await send('run', { text: 'INSERT INTO notes VALUES ($1, $2)', params: [i, 'note ' + i] });
  mark('in-transaction-' + i);
}
await send('exec', { text: 'COMMIT' });
mark('ack-commit');
for (let i = 1; i <= 20; i++) {
  await send('query', { text: 'SELECT body FROM notes WHERE id = $1', params: [i] });
  await send('query', { text: 'SELECT count(*) FROM notes' });
  mark('read-' + i);
}
await send('exec', { text: 'CHECKPOINT' });
mark('checkpointed');
await send('close');
await worker.terminate();
console.log(JSON.stringify(facts));
`;

/** One sync or marker, in the order strace saw them. */
interface Traced {
  call: 'fsync' | 'fdatasync';
  path: string;
}

interface Run {
  facts: { fsync?: string; tableFile?: string; openError?: string };
  calls: Traced[];
}

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'plinth-durability-'));
  writeFileSync(join(scratch, 'child.mjs'), child);
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs the child on a new directory with `durability` under strace; the syncs it made, in order. */
async function traced(durability: 'default' | 'sync' | 'none' | string): Promise<Run> {
  const run = mkdtempSync(join(scratch, `${durability}-`));
  const location = join(run, 'data');
  const marks = join(run, 'marks');
  mkdirSync(marks);
  const log = join(run, 'strace.log');
  const proc = spawn(
    'strace',
    [
      '-f',
      '-y',
      '-e',
      'trace=fsync,fdatasync',
      '-o',
      log,
      process.execPath,
      join(scratch, 'child.mjs'),
      workerScript,
      location,
      marks,
      durability,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  proc.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise((resolve) => proc.on('exit', resolve));
  if (code !== 0) throw new Error(`the child exited ${code}: ${stderr}`);
  const calls: Traced[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    // `1234 fdatasync(18</tmp/…/pg_wal/000000010000000000000001>) = 0`; a call another thread
    // interrupted is printed `<unfinished ...>` with its path, then `<... resumed>` without it.
    const match = line.match(/\b(fsync|fdatasync)\(\d+<([^>]*)>/);
    if (match) calls.push({ call: match[1] as Traced['call'], path: match[2] as string });
  }
  const lastLine = stdout.trim().split('\n').at(-1) ?? '{}';
  return { facts: JSON.parse(lastLine), calls: calls.map((c) => ({ ...c, path: c.path.replace(`${run}/`, '') })) };
}

/** The syncs between the marker `from` and the marker `to` (excluding both), markers left out. */
function between(calls: Traced[], from: string, to: string): Traced[] {
  const start = calls.findIndex((c) => c.path === `marks/${from}`);
  const end = calls.findIndex((c) => c.path === `marks/${to}`);
  expect(start, `marker ${from}`).toBeGreaterThanOrEqual(0);
  expect(end, `marker ${to}`).toBeGreaterThan(start);
  return calls.slice(start + 1, end).filter((c) => !c.path.startsWith('marks/'));
}

const walSyncs = (calls: Traced[]) => calls.filter((c) => /^data\/pg_wal\/[0-9A-F]{24}$/.test(c.path));

describe.skipIf(!straceWorks)('PGlite durability (skipped where strace is missing or may not trace)', () => {
  it("by default ('sync'), syncs each acknowledged write's WAL before answering, nothing for reads, the data files at a checkpoint", async () => {
    const { facts, calls } = await traced('default');
    expect(facts.openError).toBeUndefined();
    expect(facts.fsync).toBe('on');

    // At open, the whole directory, including what PGlite copied in and PostgreSQL never syncs.
    const opening = calls.slice(
      0,
      calls.findIndex((c) => c.path === 'marks/writes'),
    );
    expect(opening).toContainEqual({ call: 'fdatasync', path: 'data/PG_VERSION' });
    expect(opening).toContainEqual({ call: 'fsync', path: 'data' });

    // Each autocommit insert: its WAL synced between the previous answer and its own.
    const perInsert = [];
    for (let i = 1; i <= 20; i++) {
      const window = between(calls, i === 1 ? 'writes' : `ack-${i - 1}`, `ack-${i}`);
      perInsert.push(walSyncs(window).length);
    }
    expect(
      perInsert.every((n) => n >= 1),
      `WAL syncs per insert: ${perInsert}`,
    ).toBe(true);

    // Inside a transaction nothing needs to be durable yet; the COMMIT is synced before its answer.
    for (let i = 22; i <= 25; i++) {
      expect(between(calls, `in-transaction-${i - 1}`, `in-transaction-${i}`)).toEqual([]);
    }
    expect(walSyncs(between(calls, 'in-transaction-25', 'ack-commit')).length).toBeGreaterThanOrEqual(1);

    // Reads sync nothing at all.
    expect(between(calls, 'ack-commit', 'read-20')).toEqual([]);

    // A checkpoint syncs the table's file, pg_control and the WAL before PostgreSQL may recycle it.
    const checkpoint = between(calls, 'read-20', 'checkpointed');
    expect(checkpoint).toContainEqual({ call: 'fdatasync', path: `data/${facts.tableFile}` });
    expect(checkpoint).toContainEqual({ call: 'fdatasync', path: 'data/global/pg_control' });
    expect(walSyncs(checkpoint).length).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it("with 'none', syncs nothing (PGlite's own behaviour)", async () => {
    const { facts, calls } = await traced('none');
    expect(facts.openError).toBeUndefined();
    expect(facts.fsync).toBe('off');
    expect(calls.filter((c) => !c.path.startsWith('marks/'))).toEqual([]);
    // The run did happen: every marker is there.
    expect(calls.filter((c) => c.path.startsWith('marks/'))).toHaveLength(1 + 20 + 5 + 1 + 20 + 1);
  }, 180_000);

  it('refuses an unknown durability at open, naming the settings', async () => {
    const { facts } = await traced('fast');
    expect(facts.openError).toBe(`Unknown durability "fast" for the embedded database: use 'sync' or 'none'.`);
  }, 60_000);
});
