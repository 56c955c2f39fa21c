import { hkdfSync } from 'node:crypto';
import type { Logger } from 'pino';
import { createAccessTokens } from './auth/access-token.js';
import { createPasswordHasher } from './auth/password-hasher.js';
import { createDataService, type DataOptions } from './data/data-service.js';
import type { Database } from './database/database.js';
import type { ServerServices } from './handlers/define-handler.js';
import type { Authenticators } from './http/auth-guard.js';
import { apiKeyAuthenticator } from './keys/api-keys.js';
import { createKeyRing, ensureKeys, type IssuedKeys } from './keys/key-ring.js';
import type { Mailer } from './mail/mailer.js';
import { createOutboxMailer } from './mail/outbox-mailer.js';
import { createSmtpMailer } from './mail/smtp-mailer.js';
import { assertPublicUrl, createOAuthService } from './oauth/oauth-service.js';
import type { OAuthOptions } from './oauth/provider-config.js';
import { createMemoryRateLimiter } from './rate-limit/memory-rate-limiter.js';
import { withRateRules } from './rate-limit/rate-limit-rules.js';
import type { RateLimiter, RateRule } from './rate-limit/rate-limiter.js';
import { createRedisRateLimiter } from './rate-limit/redis-rate-limiter.js';
import { loadServerSecrets } from './sessions/server-secrets.js';
import { sessionAuthenticator } from './sessions/session-authenticator.js';
import { authChangesChannel, createSessionCheckCache } from './sessions/session-check-cache.js';
import { createSessionService } from './sessions/session-service.js';

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
  rateRules?: Readonly<Record<string, RateRule>>;
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
}

/**
 * Builds the server's services over an open database: keys (made on the first start), the
 * signing keys and refresh secret, sessions, password hashing, mail, and the authenticators the
 * route guards use.
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
  const issuer = settings.tokenIssuer ?? 'plinth';
  const accessTokens = createAccessTokens({
    ...secrets.signingKeys,
    issuer,
    audience: issuer,
    ttlSeconds: settings.accessTokenTtlSeconds ?? 900,
  });
  const absoluteLifetimeSeconds = 30 * 24 * 3600;
  const ttlMs = settings.sessionCheckTtlMs ?? 2000;
  const checkCache = ttlMs > 0 ? createSessionCheckCache({ ttlMs }) : undefined;
  if (checkCache) {
    // Every instance hears every revocation; until the channel is up, nothing is remembered.
    await database.listen(
      authChangesChannel,
      (payload) => checkCache.applyNotification(payload),
      () => checkCache.setLive(true),
    );
    checkCache.setLive(true);
  }
  const sessions = createSessionService({
    database,
    accessTokens,
    refreshSecret: secrets.refreshSecret,
    absoluteLifetimeSeconds,
    ...(checkCache ? { checkCache } : {}),
  });
  const mailer =
    settings.mailer ??
    (settings.smtpUrl
      ? createSmtpMailer(settings.smtpUrl, settings.mailFrom ?? 'Plinth <no-reply@localhost>')
      : createOutboxMailer(logger));
  const cookies = { secure: settings.secureCookies ?? true, refreshMaxAge: absoluteLifetimeSeconds };
  const appOrigins = settings.appOrigins ?? [];
  const rateLimiter =
    settings.rateLimiter ??
    (settings.redisUrl
      ? createRedisRateLimiter(settings.redisUrl, {
          ...(settings.rateLimitKeyPrefix ? { keyPrefix: settings.rateLimitKeyPrefix } : {}),
          onError: (error) => logger.warn({ err: { message: error.message } }, 'rate-limit redis'),
        })
      : createMemoryRateLimiter());
  const { publicUrl } = settings;
  if (typeof publicUrl === 'string') assertPublicUrl(publicUrl);
  const oauth = createOAuthService(settings.oauth, () => {
    const url = typeof publicUrl === 'function' ? publicUrl() : publicUrl;
    if (url === undefined) throw new Error('OAuth needs the server’s public URL (publicUrl, PLINTH_PUBLIC_URL).');
    return url;
  });
  const services: ServerServices = {
    rateLimiter,
    rateRules: withRateRules(settings.rateRules),
    database,
    keys,
    logger,
    version: settings.version,
    auth: { sessions, passwords: createPasswordHasher(), mailer, cookies, appOrigins, oauth },
    data: createDataService({
      ...settings.data,
      database,
      // Keyset cursors are signed with a key derived from a secret every instance shares, so a
      // cursor from one instance reads on another.
      cursorKey: new Uint8Array(hkdfSync('sha256', secrets.refreshSecret, '', 'plinth keyset cursor', 32)),
    }),
  };
  const apiKey = apiKeyAuthenticator(database, {
    onError: (error) => logger.warn({ err: { message: (error as Error).message } }, 'api key last_used_at'),
  });
  return {
    services,
    authenticators: { session: sessionAuthenticator(sessions, cookies, appOrigins), apiKey },
    issuedKeys,
  };
}
