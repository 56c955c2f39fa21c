import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditRoutes, routeTable } from '@plinth/protocol';
import { ConfigError, readConfig, type ServerConfig } from './config.js';
import { openDatabase } from './database/open-database.js';
import { KeysUsageError, runKeysCommand } from './keys/api-key-commands.js';
import { createKeyRing } from './keys/key-ring.js';
import { type RunningServer, startServer } from './start-server.js';
import { genTypesCommand } from './typegen/generate-types.js';

/** Where the CLI writes and reads. Injected so tests run it in-process. */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal: Promise<unknown>;
}

const usage = `Usage: plinth <command>

  dev                 the server on embedded PGlite in .plinth/, keys printed and saved to .plinth/keys.env
  start               the server, configured by PORT, DATABASE_URL, REDIS_URL, PLINTH_* variables (PLINTH_OAUTH_* for OAuth)
  routes [--public]   every route of the wire contract, or only those anyone may call
  keys rotate         issue a new service key and revoke the old one
  keys create --name N --scopes data:read,… [--expires-in 30d]
                      a scoped API key (ak_…), shown once
  keys list           every API key: prefix, state, scopes, last use, name
  keys revoke PREFIX  revoke an API key at once
  gen types [--url URL] [--service-key KEY] [--out FILE]
                      the Database type of the exposed schema, for createClient<Database>() (key: PLINTH_SERVICE_KEY)`;

const devOrigins = ['http://localhost:5173', 'http://127.0.0.1:5173'];

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
        return await serve(
          readConfig(io.env, { database: join(io.cwd, '.plinth', 'data'), corsOrigins: devOrigins }),
          io,
          true,
        );
      case 'start':
        return await serve(readConfig(io.env), io, false);
      case 'gen':
        if (rest[0] === 'types') return await genTypesCommand(rest.slice(1), io);
        break;
      case 'keys': {
        const config = readConfig(io.env, { database: join(io.cwd, '.plinth', 'data') });
        if (rest[0] === 'rotate') return await rotate(config, io);
        return await runKeysCommand(rest, () => openDatabase(config.database), io);
      }
    }
    io.stderr(usage);
    return 2;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof KeysUsageError) {
      io.stderr(`plinth: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

async function serve(config: ServerConfig, io: CliIo, dev: boolean): Promise<number> {
  const server: RunningServer = await startServer({
    port: config.port,
    hostname: config.hostname,
    database: config.database,
    corsOrigins: config.corsOrigins,
    maxBodyBytes: config.maxBodyBytes,
    logLevel: config.logLevel,
    ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
    ...(config.smtpUrl ? { smtpUrl: config.smtpUrl } : {}),
    ...(config.trustedProxyHeader ? { trustedProxyHeader: config.trustedProxyHeader } : {}),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.oauth ? { oauth: config.oauth } : {}),
    ...(config.schemaDir ? { schemaDir: config.schemaDir } : {}),
    ...(config.exposedSchemas ? { exposedSchemas: config.exposedSchemas } : {}),
    ...(config.maxRows ? { maxRows: config.maxRows } : {}),
    ...(config.statementTimeoutMs ? { statementTimeoutMs: config.statementTimeoutMs } : {}),
    ...(config.dataDatabaseUrl ? { dataDatabaseUrl: config.dataDatabaseUrl } : {}),
    ...(config.dataPoolSize ? { dataPoolSize: config.dataPoolSize } : {}),
    ...(config.headersTimeoutMs ? { headersTimeoutMs: config.headersTimeoutMs } : {}),
    ...(config.requestTimeoutMs ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
    ...(config.keepAliveTimeoutMs ? { keepAliveTimeoutMs: config.keepAliveTimeoutMs } : {}),
  });
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
  io.stdout('Stopping: finishing requests in flight…');
  await server.close();
  return 0;
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

async function rotate(config: ServerConfig, io: CliIo): Promise<number> {
  const database = await openDatabase(config.database);
  try {
    const key = await createKeyRing(database).rotateServiceKey();
    io.stdout(`New service key (shown once; the old one no longer works): ${key}`);
    return 0;
  } finally {
    await database.close();
  }
}
