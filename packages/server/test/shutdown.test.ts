import { healthRoute } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';
import { defineFeatureModule } from '../src/feature-module.js';
import { defineHandler } from '../src/http/route-handler.js';
import { startServer } from '../src/start-server.js';

// A slow handler on the health route: the only route a bare server serves.
const slowHealth = defineHandler(healthRoute, async () => {
  started();
  await new Promise<void>((resolve) => {
    release = resolve;
  });
  return { status: 'ok' as const, version: 'slow', database: { reachable: true } };
});
let release: () => void = () => {};
let started: () => void = () => {};

describe('close()', () => {
  it('finishes a request in flight, then refuses new connections and closes the database', async () => {
    const inHandler = new Promise<void>((resolve) => {
      started = resolve;
    });
    const server = await startServer({
      database: 'memory',
      logLevel: 'silent',
      modules: [defineFeatureModule({ name: 'slow health', handlers: [slowHealth] })],
    });
    const inFlight = fetch(`${server.url}/v1/health`).then((response) => response.json());
    await inHandler;
    const closed = server.close();
    release();
    expect(await inFlight).toEqual({ status: 'ok', version: 'slow', database: { reachable: true } });
    await closed;
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow();
    await expect(server.services.database.query('SELECT 1')).rejects.toThrow();
  }, 30_000);
});
