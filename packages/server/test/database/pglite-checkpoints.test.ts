import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/database/database.js';
import { openPgliteDatabase } from '../../src/database/pglite-database.js';

// PGlite has no checkpointer process: the server runs CHECKPOINT itself on a timer, so the WAL
// and a kill's recovery stay bounded. A checkpoint rewrites global/pg_control; nothing else does.

let directory: string | undefined;
let database: Database | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

const controlChanged = (dir: string) => statSync(join(dir, 'global', 'pg_control')).mtimeMs;

describe('checkpoints of the embedded database', () => {
  it('run on their timer while the server writes, as the server role can not run them itself', async () => {
    directory = mkdtempSync(join(tmpdir(), 'plinth-checkpoints-'));
    const dir = join(directory, 'data');
    database = await openPgliteDatabase(dir, { durability: 'none', checkpointEveryMs: 100 });
    await database.query('SELECT 1');
    const before = controlChanged(dir);
    await sleep(50);
    await database.query('SELECT pg_notify($1, $2)', ['plinth_test', 'written']);
    const deadline = Date.now() + 10_000;
    while (controlChanged(dir) === before && Date.now() < deadline) await sleep(50);
    expect(controlChanged(dir)).not.toBe(before);
    // The session is the server role again after each one.
    expect((await database.query<{ role: string }>('SELECT current_user AS role'))[0]?.role).toBe('plinth_server');
  });

  it('stop when the database closes', async () => {
    directory = mkdtempSync(join(tmpdir(), 'plinth-checkpoints-'));
    const dir = join(directory, 'data');
    database = await openPgliteDatabase(dir, { durability: 'none', checkpointEveryMs: 100 });
    await database.close();
    database = undefined;
    const closed = controlChanged(dir);
    await sleep(400);
    expect(controlChanged(dir)).toBe(closed);
  });
});
