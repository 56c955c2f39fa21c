import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openDatabase } from '../../src/database/open-database.js';
import { createLogger } from '../../src/logger.js';
import { sinceOf } from '../../src/webhooks/webhooks-commands.js';
import { createWebhooksService } from '../../src/webhooks/webhooks-service.js';
import { useCliIo } from '../fixtures/cli-io.js';

// `plinth webhooks replay --since`: usage mistakes are one line and exit code 2; a run over the
// working directory's database sends failed deliveries again and makes missing ones.

const cliIo = useCliIo('plinth-webhooks-');
const now = Date.parse('2026-12-01T12:00:00.000Z');

describe('plinth webhooks replay', () => {
  it.each([
    [['webhooks'], /usage: webhooks replay --since/],
    [['webhooks', 'resend'], /usage: webhooks replay --since/],
    [['webhooks', 'replay'], /--since is required/],
    [['webhooks', 'replay', '--since'], /--since needs a value/],
    [['webhooks', 'replay', '--since', 'yesterday'], /neither a time .* nor a span/],
    [['webhooks', 'replay', '--since', '2999-01-01T00:00:00Z'], /in the future/],
    [['webhooks', 'replay', '--since', '6h', '--endpoint', "x' OR 1=1"], /is not an endpoint id/],
    [['webhooks', 'replay', '--since', '6h', '--all'], /unknown option --all/],
  ])('%j is a usage error', async (args, message) => {
    const { cli, err } = cliIo();
    expect(await runCli(args, cli)).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('reads --since as a time or a span back from now', () => {
    expect(sinceOf('6h', now).toISOString()).toBe('2026-12-01T06:00:00.000Z');
    expect(sinceOf('30m', now).toISOString()).toBe('2026-12-01T11:30:00.000Z');
    expect(sinceOf('3d', now).toISOString()).toBe('2026-11-28T12:00:00.000Z');
    expect(sinceOf('2026-11-30T00:00:00Z', now).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(sinceOf('2026-11-30', now).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('sends failed deliveries again and makes missing ones, on the working directory database', async () => {
    const { cli, out, cwd } = cliIo();
    const database = await openDatabase(join(cwd, '.plinth', 'data'));
    try {
      const webhooks = await createWebhooksService({
        database,
        logger: createLogger('silent'),
        options: { autoRun: false, allowPrivateDestinations: true, timeoutMs: 1_000 },
      });
      // Port 9 (discard) on loopback: nothing listens, every attempt fails at once.
      const { endpoint } = await webhooks.createEndpoint({ url: 'http://127.0.0.1:9/hooks', events: ['user.created'] });
      await database.query("INSERT INTO plinth.users (email) VALUES ('one@example.com'), ('two@example.com')");
      await webhooks.runDue();
      await database.query("UPDATE plinth.webhook_deliveries SET status = 'failed', next_attempt_at = NULL");
      // A third event while the endpoint is disabled makes no delivery: replay makes it.
      await webhooks.updateEndpoint(endpoint.id, { enabled: false });
      await database.query("INSERT INTO plinth.users (email) VALUES ('three@example.com')");
      await webhooks.runDue();
      await webhooks.updateEndpoint(endpoint.id, { enabled: true });
      await webhooks.close();
    } finally {
      await database.close();
    }
    expect(await runCli(['webhooks', 'replay', '--since', '1h'], cli)).toBe(0);
    expect(out.join('\n')).toMatch(/2 failed deliveries to send again, 1 missing delivery made/);
    const after = await openDatabase(join(cwd, '.plinth', 'data'));
    try {
      const rows = await after.query<{ status: string }>('SELECT status FROM plinth.webhook_deliveries');
      expect(rows.map((row) => row.status)).toEqual(['pending', 'pending', 'pending']);
    } finally {
      await after.close();
    }
  });
});
