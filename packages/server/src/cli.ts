import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditRoutes, routeTable } from '@plinth/protocol';
import { ConfigError, type ConfigOptions, resolveConfig } from './config.js';
import { ConfigUsageError, cliConfigDefaults, runConfigCommand } from './config-command.js';
import { DirectoryInUseError } from './database/directory-lock.js';
import { openDatabase } from './database/open-database.js';
import { DatabaseStartError } from './database/start-errors.js';
import { KeysUsageError, runKeysCommand } from './keys/api-key-commands.js';
import { createKeyRing } from './keys/key-ring.js';
import { RealtimeUsageError, runRealtimeCommand } from './realtime/realtime-commands.js';
import { configuredKeyRing } from './secrets/envelope.js';
import { runSecretsCommand, SecretsUsageError } from './secrets/secrets-commands.js';
import { type RunningServer, startServer } from './start-server.js';
import { BucketsUsageError, runBucketsCommand } from './storage/bucket-commands.js';
import { genTypesCommand } from './typegen/generate-types.js';
import { runWebhooksCommand, WebhooksUsageError } from './webhooks/webhooks-commands.js';

/** Where the CLI writes and reads. Injected so tests run it in-process. */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal: Promise<unknown>;
  /** Resolves when it is asked again while stopping: the stop is forced (see `RunningServer.close`). */
  forceSignal?: Promise<unknown>;
  /** Redraws one status line in place, on a terminal (progress bars); absent, progress is printed as lines. */
  progress?: ((text: string) => void) | undefined;
}

const usage = `Usage: plinth <command>

  dev                 the server on embedded PGlite in .plinth/, keys printed and saved to .plinth/keys.env
  start               the server, configured by PORT, DATABASE_URL, REDIS_URL, PLINTH_* variables (PLINTH_OAUTH_* for OAuth)
  config [--dev]      the resolved configuration (secrets masked), each setting with where it came from
  routes [--public]   every route of the wire contract, or only those anyone may call
  keys rotate         issue a new service key and revoke the old one
  keys create --name N --scopes data:read,… [--expires-in 30d]
                      a scoped API key (ak_…), shown once
  keys list           every API key: prefix, state, scopes, last use, name
  keys revoke PREFIX  revoke an API key at once
  buckets create NAME [--public] [--types image/png,…] [--max-bytes 20MiB]
                      a storage bucket (private, any type, 50 MiB per object unless told)
  buckets list        every bucket: name, public or private, size cap, types
  realtime publish TABLE [--exclude col,…]
                      stream the table's row changes to realtime subscribers (it needs a primary key)
  realtime unpublish TABLE
  realtime list       the published tables, their keys and excluded columns
  secrets rotate --to N [--batch-size 500] [--concurrency 1]
                      re-encrypt every secret under master key version N, in batches; run it again to resume
  secrets audit --key-version N
                      secrets per key version; exit code 1 while any is on version N
  secrets rollback --to N [--batch-size 500] [--concurrency 1]
                      the same move back to an older version N
  webhooks replay --since 2026-12-01T00:00:00Z|6h|3d [--endpoint whe_…]
                      send again the deliveries since then that failed, and make missing ones
  gen types [--url URL] [--service-key KEY] [--out FILE]
                      the Database type of the exposed schema, for createClient<Database>() (key: PLINTH_SERVICE_KEY)`;

/**
 * Runs a `plinth` command; resolves with the exit code (0 ok, 1 failure, 2 bad usage or config).
 *
 * @example
 * ```ts
 * const code = await runCli(['routes', '--public'], io);
 * ```
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'routes':
        if (rest.includes('--public')) for (const line of auditRoutes()) io.stdout(line);
        else
          for (const route of routeTable)
            io.stdout(`${route.method.padEnd(6)} ${route.path.padEnd(36)} ${route.auth.padEnd(9)} ${route.name}`);
        return 0;
      case 'dev':
        return await serve(cliConfigDefaults(io.cwd, true), io, true);
      case 'start':
        return await serve(cliConfigDefaults(io.cwd, false), io, false);
      case 'config':
        return runConfigCommand(rest, io);
      case 'gen':
        if (rest[0] === 'types') return await genTypesCommand(rest.slice(1), io);
        break;
      case 'keys': {
        const { config } = resolveConfig({}, io.env, cliConfigDefaults(io.cwd, true));
        if (rest[0] === 'rotate') return await rotate(config.database, io);
        return await runKeysCommand(rest, () => openDatabase(config.database), io);
      }
      case 'buckets': {
        const { config } = resolveConfig({}, io.env, cliConfigDefaults(io.cwd, true));
        return await runBucketsCommand(rest, () => openDatabase(config.database), io);
      }
      case 'secrets': {
        const { config } = resolveConfig({}, io.env, cliConfigDefaults(io.cwd, true));
        const ring = configuredKeyRing(config.secretsKeys, config.secretsKeyVersion);
        return await runSecretsCommand(rest, () => openDatabase(config.database), ring, {
          stdout: io.stdout,
          stderr: io.stderr,
          progress: io.progress,
        });
      }
      case 'webhooks': {
        const { config } = resolveConfig({}, io.env, cliConfigDefaults(io.cwd, true));
        return await runWebhooksCommand(rest, () => openDatabase(config.database), io);
      }
      case 'realtime': {
        const { config } = resolveConfig({}, io.env, cliConfigDefaults(io.cwd, true));
        return await runRealtimeCommand(
          rest,
          (file) => openDatabase(config.database, file ? { appSchema: [file] } : {}),
          io,
        );
      }
    }
    io.stderr(usage);
    return 2;
  } catch (error) {
    if (
      error instanceof ConfigError ||
      // Another process holds the PGlite directory: refused before anything touched it.
      error instanceof DirectoryInUseError ||
      // The database cannot be opened (not reachable in time, login refused, no such database).
      error instanceof DatabaseStartError ||
      error instanceof KeysUsageError ||
      error instanceof ConfigUsageError ||
      error instanceof BucketsUsageError ||
      error instanceof RealtimeUsageError ||
      error instanceof SecretsUsageError ||
      error instanceof WebhooksUsageError
    ) {
      io.stderr(`plinth: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

async function serve(configDefaults: ConfigOptions, io: CliIo, dev: boolean): Promise<number> {
  // The same resolution as any startServer() caller, over the CLI's environment and defaults.
  const server: RunningServer = await startServer({ env: io.env, configDefaults });
  io.stdout(`Plinth is listening on ${server.url}`);
  if (server.serviceKey) {
    io.stdout(`Publishable key: ${server.publishableKey}`);
    io.stdout(`Service key (shown once; keep it on your server): ${server.serviceKey}`);
  }
  if (dev) {
    const file = writeKeysFile(io.cwd, server);
    if (file) io.stdout(`Keys saved to ${file} (readable by you only).`);
  }
  await io.stopSignal;
  io.stdout('Stopping: finishing requests in flight (again to force)…');
  void io.forceSignal?.then(() => server.close({ force: true }));
  const stop = await server.close();
  if (!stop.forced) return 0;
  // Exit code 1: an orchestrator's log shows the stop was not clean.
  io.stderr(
    `plinth: stopped without finishing everything: ${stop.cutRequests} request(s) answered 503 or cut after ${stop.drainMs} ms, statements still running cancelled; raise PLINTH_SHUTDOWN_TIMEOUT_MS to wait longer.`,
  );
  return 1;
}

function writeKeysFile(cwd: string, server: RunningServer): string | undefined {
  if (!server.serviceKey || !server.publishableKey) return undefined;
  const dir = join(cwd, '.plinth');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'keys.env');
  writeFileSync(
    file,
    `PLINTH_URL=${server.url}\nPLINTH_PUBLISHABLE_KEY=${server.publishableKey}\nPLINTH_SERVICE_KEY=${server.serviceKey}\n`,
    {
      mode: 0o600,
    },
  );
  chmodSync(file, 0o600);
  return file;
}

async function rotate(location: string, io: CliIo): Promise<number> {
  const database = await openDatabase(location);
  try {
    const key = await createKeyRing(database).rotateServiceKey();
    io.stdout(`New service key (shown once; the old one no longer works): ${key}`);
    return 0;
  } finally {
    await database.close();
  }
}
