import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { errorEnvelope } from '@plinth/protocol';
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
import { HttpError } from './http/http-error.js';
import { requestIdFor } from './http/request-id.js';
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
   * PGlite in a directory: sync each commit to disk before answering it. Off, acknowledged writes
   * survive a process kill but not an OS crash or power cut. Default `PLINTH_DATABASE_SYNC`, else on.
   */
  databaseSync?: boolean;
  /**
   * PostgreSQL: how long making a connection may take, in whole seconds from 1 to 60; while the
   * database is down, it bounds how long a request waits before its 503. Default
   * `PLINTH_DATABASE_CONNECT_TIMEOUT_SECONDS`, else 2.
   */
  databaseConnectTimeoutSeconds?: number;
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
  /**
   * How long `close()` waits for requests in flight and the work their answers promised, in ms
   * (0 to 3 600 000); then what is left is answered 503 and statements still running on
   * PostgreSQL are cancelled. Default `PLINTH_SHUTDOWN_TIMEOUT_MS`, else 10 000.
   */
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
  /**
   * Stops: no new connections, and requests that arrive on open ones are answered 503
   * `service_unavailable` (reason `shutting_down`, `Retry-After`, `Connection: close`); requests
   * in flight, those waiting for the embedded database included, finish within
   * `shutdownTimeoutMs`. Whatever is left then, or at once with `force` (also while a stop is
   * draining), is answered 503 if its answer has not started, and the database is closed with
   * its running statements cancelled. Every call resolves to the one stop's {@link StopReport}.
   */
  close(options?: { force?: boolean }): Promise<StopReport>;
}

/** How a stop went: what {@link RunningServer.close} resolves to. */
export interface StopReport {
  /**
   * The drain did not finish everything (requests or the work their answers promised) within
   * `shutdownTimeoutMs`, or the stop was forced: requests were cut and statements cancelled.
   */
  readonly forced: boolean;
  /** Requests still in flight when the drain ended: answered 503, or cut if their answer had started. */
  readonly cutRequests: number;
  /** From the stop's start to the end of the drain, in ms. */
  readonly drainMs: number;
}

/** How long a client is asked to wait before sending again a request refused by a stopping server, in seconds. */
const shutdownRetryAfterSeconds = 1;

/**
 * Answers 503 `shutting_down` straight on Node's response, in the same turn as the check that no
 * answer has started (an answer written meanwhile would be written twice), and closes the
 * connection after it. Returns hono's mark for an answer already sent.
 */
function refuseStopping(request: Request, outgoing: ServerResponse): Response {
  if (!outgoing.headersSent) {
    const requestId = requestIdFor(request.headers.get('x-request-id'));
    const error = new HttpError(
      'service_unavailable',
      'The server is stopping; send the request again in a moment (another instance, or this one once restarted, answers it).',
      { reason: 'shutting_down' },
    );
    const body = JSON.stringify(errorEnvelope(error.code, error.message, requestId, error.details));
    outgoing.writeHead(error.status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'retry-after': String(shutdownRetryAfterSeconds),
      'x-request-id': requestId,
      connection: 'close',
    });
    outgoing.end(body);
  }
  return RESPONSE_ALREADY_SENT;
}

/** A promise that resolves after `ms` without keeping the process alive. */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

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
      durability: config.databaseSync ? 'sync' : 'none',
      connectTimeoutSeconds: config.databaseConnectTimeoutSeconds,
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

  // Once a stop began, requests get 503 instead of the app; a forced stop answers the requests
  // still waiting for the app the same way (`cutters`: one per request waiting).
  let stopping = false;
  const cutters = new Set<() => void>();
  const fetch = (request: Request, env: { outgoing: object }) => {
    // serve() makes a node:http server here: its bindings are HTTP/1's.
    const outgoing = env.outgoing as ServerResponse;
    if (stopping) return refuseStopping(request, outgoing);
    const answer = app.fetch(request, env);
    if (!(answer instanceof Promise)) return answer;
    let cut: () => void = () => {};
    const cutOff = new Promise<Response>((resolve) => {
      cut = () => resolve(refuseStopping(request, outgoing));
    });
    cutters.add(cut);
    return Promise.race([answer, cutOff]).finally(() => cutters.delete(cut));
  };

  const server = serve({
    fetch,
    port: config.port,
    hostname: config.hostname,
    overrideGlobalObjects: false,
    serverOptions: slowClients.serverOptions,
  });
  // Not a createServer option on every supported Node version; the property works on all.
  (server as Server).keepAliveTimeout = slowClients.keepAliveTimeout;
  // A request is in flight until its answer is fully written, not merely until the handler
  // returns: close() must not cut a response that is still streaming out.
  const inFlight = new Set<ServerResponse>();
  let drained: (() => void) | undefined;
  server.on('request', (_request, response: ServerResponse) => {
    inFlight.add(response);
    response.once('close', () => {
      inFlight.delete(response);
      if (inFlight.size === 0) drained?.();
    });
  });
  const allAnswered = () =>
    inFlight.size === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          drained = resolve;
        });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.hostname !== '0.0.0.0' ? config.hostname : '127.0.0.1';

  let closing: Promise<StopReport> | undefined;
  let force: () => void = () => {};
  const forced = new Promise<void>((resolve) => {
    force = resolve;
  });
  const stop = async (): Promise<StopReport> => {
    const started = performance.now();
    // One deadline for the whole drain: requests in flight, then the work their answers promised.
    const hurry = Promise.race([forced, delay(config.shutdownTimeoutMs)]).then(() => false);
    // From now on every answer closes its connection (the refusals set it themselves): the
    // client sends its next request elsewhere, rather than on a connection about to close.
    stopping = true;
    for (const response of inFlight) if (!response.headersSent) response.setHeader('connection', 'close');
    // net.Server's close: it stops accepting but, unlike http.Server's (Node ≥ 19), leaves idle
    // keep-alive connections open, so a request a client is sending on one right now is
    // answered 503 instead of reset. They are closed once the drain is over.
    const stopped = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    // Open streams would hold the drain until the deadline: each is told why it ends (at once,
    // as close() begins), and the client resumes elsewhere from its last id. Stopping their
    // listeners may wait for the database (PGlite's one session, busy with a long statement), so
    // that is bounded by the same deadline.
    const background = Promise.allSettled([services.realtime.close(), services.webhooks.close()]);
    let finished = await Promise.race([Promise.all([allAnswered(), background]).then(() => true), hurry]);
    const cutRequests = inFlight.size;
    if (!finished) {
      // Answered 503 now, rather than reset below; their writes need a turn or two.
      for (const cut of cutters) cut();
      await Promise.race([allAnswered(), delay(1_000)]);
    }
    const drainMs = Math.round(performance.now() - started);
    // http.Server's close now: idle connections closed, header timeouts no longer checked.
    server.close();
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await stopped;
    // Accounts, tokens and mail that answers already promised (sign-up, magic link, reset).
    if (finished) finished = await Promise.race([workAfterAnswers().then(() => true), hurry]);
    clearInterval(sweeper);
    await services.auth.mailer.close();
    await services.rateLimiter.close();
    // Forced, statements still running on PostgreSQL are cancelled there, not left to run on.
    await database.close({ force: !finished });
    if (temporaryStorage) rmSync(temporaryStorage, { recursive: true, force: true });
    return { forced: !finished, cutRequests, drainMs };
  };
  const close = (closeOptions: { force?: boolean } = {}) => {
    if (closeOptions.force) force();
    closing ??= stop();
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
