// The server dies mid-stream (SIGKILL: no close, no `end`, writes in flight) while events are
// being written, and comes back on the same port and database. The subscriber, in this process,
// resumes with the ticket it had (its secret lives in the database) and misses nothing: every id
// in the log, before the kill and after, exactly once, in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@plinth/client';
import { afterAll, describe, expect, it } from 'vitest';
import { type TestDatabaseLocation, testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import { generousRateRules } from '../fixtures/realtime-server.js';
import { freePort, type ServerProcess, startServerProcess } from '../fixtures/server-process.js';
import { recording, subscribed } from '../fixtures/subscription-recorder.js';

// A persistent database is the point: PGlite in a directory, or PostgreSQL when DATABASE_URL is set.
const label = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite (directory)';
const location = testDatabaseLocations().find((candidate) => candidate.label === label) as TestDatabaseLocation;
const storageDir = mkdtempSync(join(tmpdir(), 'plinth-realtime-restart-storage-'));
let current: ServerProcess | undefined;

afterAll(async () => {
  await current?.close();
  rmSync(storageDir, { recursive: true, force: true });
});

describe(`a server killed with SIGKILL mid-stream and started again (${label})`, () => {
  it('is resumed from by subscribe(): every id before and after, exactly once, in order', async () => {
    const database = await location.create();
    const port = await freePort();
    const start = async () => {
      current = await startServerProcess({ database, port, storageDir, rateRules: generousRateRules });
      return current;
    };
    const first = await start();
    // Keys are shown on a database's first start only; they stay valid across restarts.
    const plinth = createClient({
      url: first.url,
      publishableKey: first.publishableKey as string,
      serviceKey: first.serviceKey as string,
    });
    const channel = 'restart:room';
    const ticket = await plinth.realtime.createTicket({ channels: [channel] });
    const seen = recording();
    const subscription = await subscribed(ticket, seen.options());

    // Writes go on, 50 events to a transaction, against whichever server is up: a batch in
    // flight when the server dies may or may not have committed, so what must arrive is what
    // the log holds in the end, and every acknowledged batch must be in it.
    const acknowledged: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let n = 1; writing; n += 50) {
        try {
          acknowledged.push(...(await (current as ServerProcess).publish(channel, n, 50)));
        } catch {
          await sleep(50);
        }
      }
    })();

    await seen.until(() => seen.events.length >= 300, 'events before the kill', 60_000);
    await first.kill();
    const beforeRestart = seen.events.length;
    const lastBeforeRestart = subscription.lastEventId as string;
    const second = await start();
    expect(second.url).toBe(first.url);
    await seen.until(() => seen.events.length >= beforeRestart + 300, 'events after the restart', 60_000);
    writing = false;
    await writer;

    const logged = await second.loggedIds(channel);
    await seen.until(
      () => subscription.lastEventId === logged.at(-1),
      () => `the last id in the log, ${logged.at(-1)} (at ${subscription.lastEventId})`,
      60_000,
    );
    expect(seen.ids()).toEqual(logged);
    // No acknowledged write was lost with the process.
    expect(acknowledged.filter((id) => !logged.includes(id))).toEqual([]);
    expect(seen.events.length).toBeGreaterThan(beforeRestart);
    expect(BigInt(logged.at(-1) as string)).toBeGreaterThan(BigInt(lastBeforeRestart));
    // The stream was cut and opened again, and nothing was reported as wrong.
    expect(seen.statuses.slice(0, 2)).toEqual(['connecting', 'open']);
    expect(seen.statuses).toContain('reconnecting');
    expect(subscription.status).toBe('open');
    expect(seen.errors).toEqual([]);
  }, 240_000);
});
