import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { workAfterAnswers } from './accounts/after-answer.js';
import { createApp } from './app.js';
import {
  type ConfigOptions,
  configVariables,
  resolveConfig,
  type SecretsKeyOption,
  type ServerConfig,
} from './config.js';
import { readAppSchema } from './database/app-schema.js';
import { openDatabaseAtStart } from './database/open-database.js';
import type { FeatureModule, RateRuleSet } from './feature-module.js';
import { featureModules } from './features.js';
import { createLogger } from './logger.js';
import type { Mailer } from './mail/mailer.js';
import type { OAuthOptions } from './oauth/provider-config.js';
import { publishingFile } from './realtime/realtime-commands.js';
import type { ServerServices } from './server-services.js';
import { createServerServices } from './server-services.js';
import type { S3Options } from './storage/s3-driver.js';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The port. Default `PORT`, else 0, which picks a free one. */
  port?: number;
  /** The interface to listen on. Default `PLINTH_HOST`, else `127.0.0.1`. */
  hostname?: string;
  /**
   * `memory` (throwaway PGlite), a directory (persistent PGlite), or a `postgres://` URL.
   * Default: `DATABASE_URL`, else `.plinth/data` in the working directory.
   */
  database?: string;
  /**
   * PostgreSQL: how long the start keeps trying a database it cannot reach (refused, host not
   * found, timed out, starting up), in whole seconds from 0 to 600; then it fails with an error
   * whose `code` is `database_unreachable`. Default `PLINTH_DATABASE_WAIT_SECONDS`, else 30.
   */
  databaseWaitSeconds?: number;
  /**
   * Where uploaded bytes are kept (the local storage driver). Default `PLINTH_STORAGE_DIR`, else
   * `.plinth/storage` in the working directory; with the `memory` database, a temporary
   * directory removed by `close()`.
   */
  storageDir?: string;
  /**
   * Keep object bytes in a bucket of an S3-compatible service (AWS S3, MinIO, R2, …) instead:
   * browsers upload straight to it. Default `PLINTH_S3_ENDPOINT` and the other `PLINTH_S3_*`
   * variables, else local disk. See docs/storage.md, "Drivers".
   */
  s3?: S3Options;
  /**
   * Tables whose row changes realtime streams carry, published at every start (they need a
   * primary key). Default `PLINTH_REALTIME_TABLES` (comma-separated), else none. See
   * docs/realtime.md.
   */
  realtimeTables?: readonly string[];
  /** Realtime events older than this are deleted, in seconds. Default `PLINTH_REALTIME_RETENTION_SECONDS`, else a day. */
  realtimeRetentionSeconds?: number;
  /** At most this many realtime events are kept. Default `PLINTH_REALTIME_RETENTION_EVENTS`, else 100 000. */
  realtimeRetentionEvents?: number;
  /** A heartbeat comment on every open stream this often, in ms. Default `PLINTH_REALTIME_HEARTBEAT_MS`, else 15 000. */
  realtimeHeartbeatMs?: number;
  /** Realtime streams one user may hold open on one instance. Default `PLINTH_REALTIME_MAX_STREAMS_PER_USER`, else 10. */
  realtimeMaxStreamsPerUser?: number;
  /**
   * Master keys that encrypt secrets at rest, by version, each base64 of 32 random bytes; older
   * versions only decrypt. Default `PLINTH_SECRETS_KEYS` (`1:<key>,2:<key>`), else none (the
   * secrets routes refuse). See docs/admin.md, "Secrets".
   */
  secretsKeys?: readonly SecretsKeyOption[];
  /** The version new secrets are encrypted with. Default `PLINTH_SECRETS_KEY_VERSION`, else the highest. */
  secretsKeyVersion?: number;
  /**
   * Webhooks may go to private and loopback addresses: for local development and tests only.
   * Default `PLINTH_WEBHOOKS_ALLOW_PRIVATE` (`1`), else false. See docs/webhooks.md.
   */
  webhooksAllowPrivate?: boolean;
  /** One webhook attempt's limit, in ms, 1 000 to 30 000. Default `PLINTH_WEBHOOKS_TIMEOUT_MS`, else 15 000. */
  webhooksTimeoutMs?: number;
  /**
   * PostgreSQL: where the app's data statements log in, when you made that role yourself (a role
   * that can become only plinth_anon, plinth_authenticated and plinth_service; checked at start).
   * Default `PLINTH_DATA_DATABASE_URL`, else a role the server makes and manages. See
   * docs/security.md, "Data sessions".
   */
  dataDatabaseUrl?: string;
  /** PostgreSQL: connections of the data pool. Default `PLINTH_DATA_POOL_SIZE`, else 10. */
  dataPoolSize?: number;
  /** App origins allowed by CORS, with credentials. Default `PLINTH_CORS_ORIGINS`, else none. */
  corsOrigins?: readonly string[];
  /** The cap on JSON request bodies, in bytes (1 KiB to 100 MiB). Default `PLINTH_MAX_BODY_BYTES`, else 1 MiB. */
  maxBodyBytes?: number;
  /** Log level (pino): `silent` in tests. Default `PLINTH_LOG_LEVEL`, else `info`. */
  logLevel?: string;
  /** Check every answer against its response schema. Default on unless `NODE_ENV=production`. */
  validateResponses?: boolean;
  /** How long `close()` waits for requests in flight, in ms. Default 10 000. */
  shutdownTimeoutMs?: number;
  /** SMTP for outgoing mail (`smtp://…`); default `SMTP_URL`, else the dev outbox. */
  smtpUrl?: string;
  /** A mailer object instead (tests pass the outbox to read what was sent). */
  mailer?: Mailer;
  /** Redis for rate limits shared by every instance; default `REDIS_URL`, else in memory. */
  redisUrl?: string;
  /** Prefix of the Redis rate-limit keys (default `plinth:rl:`): one per deployment sharing a Redis. */
  rateLimitKeyPrefix?: string;
  /** The header a trusted reverse proxy sets to the client's IP (e.g. `x-forwarded-for`). Default `PLINTH_TRUSTED_PROXY_HEADER`. */
  trustedProxyHeader?: string;
  /** Rate rules by route name (`auth.signIn`, `auth.signIn.perAccount`, `default`) over the feature modules' defaults. */
  rateRules?: RateRuleSet;
  /**
   * How long a successful session check is remembered, in ms (default 2000; 0 turns it off).
   * Revocations on any instance reach it at once through the database's notifications; see
   * docs/server.md, "Session checks".
   */
  sessionCheckTtlMs?: number;
  /** `__Host-` + Secure session cookies (default true). Off only for plain http off localhost. */
  secureCookies?: boolean;
  /**
   * OAuth sign-in: the providers (an OpenID Connect issuer, or the `github`/`google` presets) and
   * the app URLs a sign-in may return to, matched exactly. Default: from `PLINTH_OAUTH_*`, else none.
   */
  oauth?: OAuthOptions;
  /**
   * The server's URL as browsers and providers reach it, e.g. behind a proxy; OAuth callbacks are
   * `${publicUrl}/v1/auth/oauth/:provider/callback`. Default `PLINTH_PUBLIC_URL`, else the URL
   * this server listens on.
   */
  publicUrl?: string;
  /**
   * The app's schema directory: its `*.sql` files are applied in name order at every start, after
   * Plinth's schema, as the owner role `plinth_owner` (never as the server's role), so they must be
   * idempotent. Default `PLINTH_SCHEMA_DIR`, else none.
   */
  schemaDir?: string;
  /** Schemas the data API serves. Default `PLINTH_EXPOSED_SCHEMAS` (comma-separated), else `public`. */
  exposedSchemas?: readonly string[];
  /** The most rows one select answers. Default `PLINTH_MAX_ROWS`, else 1000. */
  maxRows?: number;
  /** How long one data call may run, in ms. Default `PLINTH_STATEMENT_TIMEOUT_MS`, else 10 000. */
  statementTimeoutMs?: number;
  /** How long a client may take to send a request's headers, in ms (then 408 and closed). Default `PLINTH_HEADERS_TIMEOUT_MS`, else 10 000. */
  headersTimeoutMs?: number;
  /** How long a client may take to send a whole request, body included, in ms. Default `PLINTH_REQUEST_TIMEOUT_MS`, else 30 000. */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open, in ms. Default `PLINTH_KEEP_ALIVE_TIMEOUT_MS`, else 5 000. */
  keepAliveTimeoutMs?: number;
  /**
   * Where settings not given here are read from (see docs/server.md, "Configuration"). Default
   * `process.env`; the CLI passes its own.
   */
  env?: Record<string, string | undefined>;
  /** Defaults under the environment, over the built-in ones (the CLI's port 8787, `plinth dev`'s paths). */
  configDefaults?: ConfigOptions;
  /** @internal For tests: other feature modules than the built-in ones. */
  modules?: readonly Pick<FeatureModule, 'name' | 'handlers'>[];
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /**
   * The keys made on this start, shown once. Present on a fresh database (always with
   * `database: 'memory'`); undefined when the database already had keys, since only their
   * hashes are stored.
   */
  readonly publishableKey: string | undefined;
  readonly serviceKey: string | undefined;
  readonly services: ServerServices;
  /**
   * @internal For tests: the same app without a socket (`app.request(path, init)`), to show it
   * answers as the server does over one.
   */
  readonly app: { request(path: string, init?: RequestInit): Response | Promise<Response> };
  /** Stops accepting, lets requests in flight finish (bounded), and closes the database. */
  close(): Promise<void>;
}

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/**
 * Node's HTTP server settings that bound slow clients. Node checks the header and request
 * timeouts only every `connectionsCheckingInterval` (30 s by default), so that interval follows
 * the shortest timeout: otherwise a 10 s bound would hold a stalled client for up to 40 s.
 */
function slowClientSettings(config: ServerConfig) {
  const { headersTimeoutMs: headersTimeout, requestTimeoutMs: requestTimeout } = config;
  const connectionsCheckingInterval = Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4)));
  return {
    keepAliveTimeout: config.keepAliveTimeoutMs,
    serverOptions: { headersTimeout, requestTimeout, connectionsCheckingInterval },
  };
}

/**
 * Starts the Plinth server in this process: for tests, embedding, and `plinth dev`/`start`.
 *
 * @example
 * ```ts
 * const server = await startServer({ database: 'memory', logLevel: 'silent' });
 * const plinth = createClient({ url: server.url, publishableKey: server.publishableKey!, serviceKey: server.serviceKey });
 * await server.close();
 * ```
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  // First, so a bad setting fails the start before anything is opened.
  const { config, sources } = resolveConfig(options, options.env ?? process.env, options.configDefaults);
  const logger = createLogger(config.logLevel);
  // Known once the server listens, unless configured.
  let ownUrl: string | undefined;
  const configuredUrl = config.publicUrl;
  const slowClients = slowClientSettings(config);
  // Tables the configuration publishes: published after the app's schema made them.
  const appSchema = [
    ...(config.schemaDir ? readAppSchema(config.schemaDir) : []),
    ...(config.realtimeTables.length > 0 ? [publishingFile(config.realtimeTables.map((name) => ({ name })))] : []),
  ];
  // Errors name each setting as it was given: the variable, else the option's name.
  const named = (key: keyof ServerConfig) => (sources[key].from === 'variable' ? configVariables[key] : key);
  const database = await openDatabaseAtStart(
    config.database,
    {
      ...(appSchema.length > 0 ? { appSchema } : {}),
      ...(config.dataDatabaseUrl ? { dataUrl: config.dataDatabaseUrl } : {}),
      dataPoolSize: config.dataPoolSize,
    },
    {
      waitSeconds: config.databaseWaitSeconds,
      names: {
        database: named('database'),
        dataUrl: named('dataDatabaseUrl'),
        // Unless code set it, the variable is what an operator would set.
        waitSeconds:
          sources.databaseWaitSeconds.from === 'option' ? 'databaseWaitSeconds' : configVariables.databaseWaitSeconds,
      },
      logger,
    },
  );
  // An in-memory database forgets its objects when it closes; so do their bytes.
  const temporaryStorage =
    config.storageDir === undefined && config.database === 'memory'
      ? mkdtempSync(join(tmpdir(), 'plinth-storage-'))
      : undefined;
  const {
    services,
    authenticators,
    issuedKeys: issued,
  } = await createServerServices({
    storage: { dir: config.storageDir ?? temporaryStorage ?? '.plinth/storage', s3: config.s3 },
    data: {
      statementTimeoutMs: config.statementTimeoutMs,
      maxRows: config.maxRows,
      exposedSchemas: config.exposedSchemas,
    },
    database,
    logger,
    version,
    appOrigins: config.corsOrigins,
    smtpUrl: config.smtpUrl,
    redisUrl: config.redisUrl,
    rateLimitKeyPrefix: options.rateLimitKeyPrefix,
    ...(options.rateRules ? { rateRules: options.rateRules } : {}),
    ...(options.sessionCheckTtlMs === undefined ? {} : { sessionCheckTtlMs: options.sessionCheckTtlMs }),
    ...(options.mailer ? { mailer: options.mailer } : {}),
    ...(options.secureCookies === undefined ? {} : { secureCookies: options.secureCookies }),
    ...(config.oauth ? { oauth: config.oauth } : {}),
    publicUrl: configuredUrl ?? (() => ownUrl),
    realtime: {
      retentionSeconds: config.realtimeRetentionSeconds,
      retentionEvents: config.realtimeRetentionEvents,
      heartbeatMs: config.realtimeHeartbeatMs,
      maxStreamsPerUser: config.realtimeMaxStreamsPerUser,
    },
    secrets: { keys: config.secretsKeys, current: config.secretsKeyVersion },
    webhooks: { allowPrivateDestinations: config.webhooksAllowPrivate, timeoutMs: config.webhooksTimeoutMs },
  });
  const app = createApp({
    services,
    modules: options.modules ?? featureModules,
    authenticators,
    trustedProxyHeader: config.trustedProxyHeader,
    corsOrigins: config.corsOrigins,
    maxBodyBytes: config.maxBodyBytes,
    validateResponses: config.validateResponses,
    // Only a configured https URL says browsers reach this server over TLS (a proxy terminates it).
    hsts: configuredUrl?.startsWith('https:') ?? false,
  });

  // overrideGlobalObjects: false keeps the real Response global, so handlers' Response.json(...)
  // answers are recognised as Responses.
  // Grants that expired unused, and bytes a crash left half-written: swept at start and every
  // ten minutes, by every instance (the sweep is idempotent).
  const sweepStorage = () =>
    services.storage
      .sweep()
      .catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'storage sweep'));
  await sweepStorage();
  const sweeper = setInterval(sweepStorage, 10 * 60 * 1000).unref();

  const server = serve({
    fetch: app.fetch,
    port: config.port,
    hostname: config.hostname,
    overrideGlobalObjects: false,
    serverOptions: slowClients.serverOptions,
  });
  // Not a createServer option on every supported Node version; the property works on all.
  (server as Server).keepAliveTimeout = slowClients.keepAliveTimeout;
  // A request is in flight until its answer is fully written, not merely until the handler
  // returns: close() must not cut a response that is still streaming out.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  server.on('request', (_request, response: ServerResponse) => {
    inFlight++;
    response.once('close', () => {
      if (--inFlight === 0) drained?.();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.hostname !== '0.0.0.0' ? config.hostname : '127.0.0.1';

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Open streams would hold close() until the timeout: each is told why it ends, and the
      // client resumes elsewhere from its last id.
      await services.realtime.close();
      await services.webhooks.close();
      // Idle keep-alive sockets would hold close() open; requests in flight keep theirs.
      (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => {
            drained = resolve;
          }),
          new Promise((resolve) => setTimeout(resolve, options.shutdownTimeoutMs ?? 10_000).unref()),
        ]);
      }
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await stopped;
      // Accounts, tokens and mail that answers already promised (sign-up, magic link, reset).
      await Promise.race([
        workAfterAnswers(),
        new Promise((resolve) => setTimeout(resolve, options.shutdownTimeoutMs ?? 10_000).unref()),
      ]);
      clearInterval(sweeper);
      await services.auth.mailer.close();
      await services.rateLimiter.close();
      await database.close();
      if (temporaryStorage) rmSync(temporaryStorage, { recursive: true, force: true });
    })();
    return closing;
  };

  ownUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: ownUrl,
    publishableKey: issued.publishableKey,
    serviceKey: issued.serviceKey,
    services,
    app: { request: (path, init) => app.request(path, init) },
    close,
  };
}
