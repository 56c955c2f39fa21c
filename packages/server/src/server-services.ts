import type { Logger } from 'pino';
import type { AuthServices } from './auth/auth-module.js';
import { authModule } from './auth/auth-module.js';
import { dataModule } from './data/data-module.js';
import type { DataOptions, DataService } from './data/data-service.js';
import type { Database } from './database/database.js';
import type { RateRuleSet, ServiceContext } from './feature-module.js';
import { defaultRateRules } from './features.js';
import type { Authenticators } from './http/auth-guard.js';
import { apiKeyAuthenticator } from './keys/api-keys.js';
import { createKeyRing, ensureKeys, type IssuedKeys, type KeyRing } from './keys/key-ring.js';
import type { Mailer } from './mail/mailer.js';
import { oauthModule } from './oauth/oauth-module.js';
import type { OAuthService } from './oauth/oauth-service.js';
import type { OAuthOptions } from './oauth/provider-config.js';
import { createMemoryRateLimiter } from './rate-limit/memory-rate-limiter.js';
import { type RateRules, withRateRules } from './rate-limit/rate-limit-rules.js';
import type { RateLimiter } from './rate-limit/rate-limiter.js';
import { createRedisRateLimiter } from './rate-limit/redis-rate-limiter.js';
import { realtimeModule } from './realtime/realtime-module.js';
import type { RealtimeOptions, RealtimeService } from './realtime/realtime-service.js';
import { secretsModule } from './secrets/secrets-module.js';
import type { SecretsService } from './secrets/secrets-service.js';
import { loadServerSecrets } from './sessions/server-secrets.js';
import { sessionAuthenticator } from './sessions/session-authenticator.js';
import type { S3Options } from './storage/s3-driver.js';
import { storageModule } from './storage/storage-module.js';
import type { StorageService } from './storage/storage-service.js';
import { webhooksModule } from './webhooks/webhooks-module.js';
import type { WebhooksOptions, WebhooksService } from './webhooks/webhooks-service.js';

/**
 * What every handler may use: what all features share (the database, keys, logger, rate
 * limits) and each feature module's own services, under the module's name.
 */
export interface ServerServices {
  readonly database: Database;
  readonly keys: KeyRing;
  readonly logger: Logger;
  readonly version: string;
  /** Where rate-limit buckets live: memory, or Redis shared by every instance. */
  readonly rateLimiter: RateLimiter;
  /** The rate rules in force: the modules' defaults with the configured overrides laid over them. */
  readonly rateRules: RateRules;
  /** Accounts and sessions (the auth module). */
  readonly auth: AuthServices;
  /** OAuth sign-in: the configured providers, the redirect allow-list, the calls to providers. */
  readonly oauth: OAuthService;
  /** The data API: introspected schema, query compiler, statements run as the acting role. */
  readonly data: DataService;
  /** Buckets, upload grants, objects (the storage module). */
  readonly storage: StorageService;
  /** Tickets, broadcasts and event streams (the realtime module). */
  readonly realtime: RealtimeService;
  /** Named secrets, encrypted at rest (the secrets module). */
  readonly secrets: SecretsService;
  /** Webhook endpoints, deliveries, and the loop that sends them (the webhooks module). */
  readonly webhooks: WebhooksService;
}

/** What the services are built from. */
export interface ServiceSettings {
  database: Database;
  logger: Logger;
  version: string;
  /** App origins: CORS, the CSRF check, and where email links may point. */
  appOrigins?: readonly string[];
  /** A mailer; else SMTP when `smtpUrl` is set, else the dev outbox. */
  mailer?: Mailer;
  smtpUrl?: string | undefined;
  mailFrom?: string;
  /** `__Host-` + Secure cookies (default). Off only for plain-http deployments off localhost. */
  secureCookies?: boolean;
  /** Access-token lifetime in seconds, 300..3600. Default 900. */
  accessTokenTtlSeconds?: number;
  /** `iss` and `aud` of access tokens. Default `plinth`. */
  tokenIssuer?: string;
  /** Rate limits shared through Redis; in memory when unset. */
  redisUrl?: string | undefined;
  /** Prefix of the Redis rate-limit keys: deployments sharing one Redis each need their own. */
  rateLimitKeyPrefix?: string | undefined;
  /** A limiter object instead (tests). */
  rateLimiter?: RateLimiter;
  /** Rate rules by route name, laid over the defaults. */
  rateRules?: RateRuleSet;
  /** How long a successful session check is remembered, in ms; 0 turns it off. Default 2000. */
  sessionCheckTtlMs?: number;
  /** OAuth providers and the redirect allow-list; none by default (every OAuth sign-in refused). */
  oauth?: OAuthOptions | undefined;
  /**
   * The server's URL as browsers and providers reach it (OAuth callbacks). A function when it is
   * known only once the server listens.
   */
  publicUrl?: string | (() => string | undefined) | undefined;
  /** The data API: exposed schemas, row cap, statement timeout. */
  data?: DataOptions;
  /** Where the local storage driver keeps object bytes. Default `.plinth/storage`. */
  /** Local disk under `dir`, unless `s3` says which S3-compatible bucket holds the bytes. */
  storage?: { dir: string; s3?: S3Options | undefined };
  /** Retention, heartbeats and stream caps of the realtime feature. */
  realtime?: RealtimeOptions | undefined;
  /** The master keys of secrets (base64 of 32 bytes each) and the version new ones use. */
  secrets?: { keys: readonly { version: number; key: string }[]; current?: number | undefined } | undefined;
  /** Where webhooks may go, timeouts, and (tests) the clock. */
  webhooks?: WebhooksOptions | undefined;
}

/**
 * Builds the server's services over an open database: keys (made on the first start), the
 * secrets every instance shares, the rate limiter, each feature module's services, and the
 * authenticators the route guards use.
 *
 * @example
 * ```ts
 * const { services, authenticators, issuedKeys } = await createServerServices({ database, logger, version });
 * ```
 */
export async function createServerServices(settings: ServiceSettings): Promise<{
  services: ServerServices;
  authenticators: Authenticators;
  issuedKeys: IssuedKeys;
}> {
  const { database, logger } = settings;
  const keys = createKeyRing(database);
  const issuedKeys = await ensureKeys(database, keys);
  const secrets = await loadServerSecrets(database);
  const rateRules = withRateRules(defaultRateRules, settings.rateRules);
  const rateLimiter =
    settings.rateLimiter ??
    (settings.redisUrl
      ? createRedisRateLimiter(settings.redisUrl, {
          ...(settings.rateLimitKeyPrefix ? { keyPrefix: settings.rateLimitKeyPrefix } : {}),
          logger,
        })
      : createMemoryRateLimiter());
  const context: ServiceContext = { database, logger, settings, secrets };
  const services: ServerServices = {
    database,
    keys,
    logger,
    version: settings.version,
    rateLimiter,
    rateRules,
    auth: await authModule.createServices(context),
    oauth: await oauthModule.createServices(context),
    data: await dataModule.createServices(context),
    storage: await storageModule.createServices(context),
    realtime: await realtimeModule.createServices(context),
    secrets: await secretsModule.createServices(context),
    webhooks: await webhooksModule.createServices(context),
  };
  const apiKey = apiKeyAuthenticator(database, {
    onError: (error) => logger.warn({ err: { message: (error as Error).message } }, 'api key last_used_at'),
  });
  const { sessions, cookies, appOrigins } = services.auth;
  return {
    services,
    authenticators: {
      session: sessionAuthenticator(sessions, cookies, appOrigins),
      apiKey,
      presigned: (route, url) => services.storage.verifyUrl(route, url),
      ticket: (ticket) => services.realtime.verifyTicket(ticket),
    },
    issuedKeys,
  };
}
