import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type OAuthOptions,
  type OAuthProviderOptions,
  redirectUrlProblem,
  serverUrlProblem,
} from './oauth/provider-config.js';

/** The server's configuration, from the environment (`plinth start`) or flags (`plinth dev`). */
export interface ServerConfig {
  port: number;
  hostname: string;
  database: string;
  redisUrl: string | undefined;
  smtpUrl: string | undefined;
  trustedProxyHeader: string | undefined;
  corsOrigins: string[];
  maxBodyBytes: number;
  logLevel: string;
  /** The server's URL as browsers and providers reach it (OAuth callbacks). */
  publicUrl: string | undefined;
  /** OAuth providers and the redirect allow-list, when any are configured. */
  oauth: OAuthOptions | undefined;
  /** The app's schema directory (`PLINTH_SCHEMA_DIR`), applied at start. */
  schemaDir: string | undefined;
  /** Schemas the data API serves (`PLINTH_EXPOSED_SCHEMAS`). */
  exposedSchemas: string[] | undefined;
  /** The most rows one select answers (`PLINTH_MAX_ROWS`). */
  maxRows: number | undefined;
  /** How long one data call may run, in ms (`PLINTH_STATEMENT_TIMEOUT_MS`). */
  statementTimeoutMs: number | undefined;
  /** PostgreSQL: the data login role's URL, when the operator made it (`PLINTH_DATA_DATABASE_URL`). */
  dataDatabaseUrl: string | undefined;
  /** PostgreSQL: connections of the data pool (`PLINTH_DATA_POOL_SIZE`). */
  dataPoolSize: number | undefined;
  /** Slow-client bounds, in ms (`PLINTH_HEADERS_TIMEOUT_MS`, `_REQUEST_`, `_KEEP_ALIVE_`). */
  headersTimeoutMs: number | undefined;
  requestTimeoutMs: number | undefined;
  keepAliveTimeoutMs: number | undefined;
}

/** A configuration mistake: which variable, and how to fix it. The CLI prints it and exits 2. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

function trustedProxyHeader(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9-]+$/.test(raw)) {
    throw new ConfigError(
      'PLINTH_TRUSTED_PROXY_HEADER',
      `must be a header name such as x-forwarded-for; got ${JSON.stringify(raw)}.`,
    );
  }
  return raw.toLowerCase();
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}.`);
  }
  return Number(raw);
}

function url(
  env: Record<string, string | undefined>,
  name: string,
  protocols: string[],
  example: string,
): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL; set it like ${example}.`);
  }
  if (!protocols.includes(parsed.protocol))
    throw new ConfigError(name, `must start with ${protocols.join(' or ')}; set it like ${example}.`);
  return raw;
}

const providerVariable = /^PLINTH_OAUTH_([A-Z0-9_]+?)_(ISSUER|CLIENT_ID|CLIENT_SECRET|PRESET)$/;

/**
 * OAuth from `PLINTH_OAUTH_REDIRECT_URLS` (comma-separated, matched exactly) and, per provider
 * `<NAME>` (the route's `:provider`, lower-cased), `PLINTH_OAUTH_<NAME>_CLIENT_ID`,
 * `_CLIENT_SECRET`, `_ISSUER` (an OpenID Connect issuer) and `_PRESET` (`github` or `google`;
 * implied by the names GITHUB and GOOGLE, where `_ISSUER` is optional).
 */
function oauthConfig(env: Record<string, string | undefined>): OAuthOptions | undefined {
  const redirectUrls = (env.PLINTH_OAUTH_REDIRECT_URLS ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  for (const url of redirectUrls) {
    const problem = redirectUrlProblem(url);
    if (problem) {
      throw new ConfigError(
        'PLINTH_OAUTH_REDIRECT_URLS',
        `"${url}" ${problem}; list the app's callback URLs like https://app.example.com/auth/callback.`,
      );
    }
  }
  const names = new Set<string>();
  for (const [key, value] of Object.entries(env)) {
    const name = providerVariable.exec(key)?.[1];
    if (name && value) names.add(name);
  }
  const providers: Record<string, OAuthProviderOptions> = {};
  for (const name of [...names].sort()) {
    const variable = (suffix: string) => `PLINTH_OAUTH_${name}_${suffix}`;
    const read = (suffix: string) => env[variable(suffix)] || undefined;
    if (name.length > 64) throw new ConfigError(variable('CLIENT_ID'), 'the provider name is over 64 characters.');
    const clientId = read('CLIENT_ID');
    const clientSecret = read('CLIENT_SECRET');
    if (!clientId)
      throw new ConfigError(variable('CLIENT_ID'), 'required: the client id of the app registered with the provider.');
    if (!clientSecret)
      throw new ConfigError(
        variable('CLIENT_SECRET'),
        'required: the client secret of the app registered with the provider.',
      );
    const preset = read('PRESET') ?? (name === 'GITHUB' || name === 'GOOGLE' ? name.toLowerCase() : undefined);
    if (preset !== undefined && preset !== 'github' && preset !== 'google')
      throw new ConfigError(variable('PRESET'), `must be github or google; got ${JSON.stringify(preset)}.`);
    const issuer = read('ISSUER');
    if (issuer === undefined && preset === undefined) {
      throw new ConfigError(
        variable('ISSUER'),
        'required: the OpenID Connect issuer URL, like https://idp.example.com (or set the _PRESET to github or google).',
      );
    }
    const problem = issuer === undefined ? undefined : serverUrlProblem(issuer);
    if (problem) throw new ConfigError(variable('ISSUER'), `${problem}; set it like https://idp.example.com.`);
    providers[name.toLowerCase()] = {
      clientId,
      clientSecret,
      ...(issuer === undefined ? {} : { issuer }),
      ...(preset === undefined ? {} : { preset }),
    };
  }
  if (redirectUrls.length === 0 && names.size === 0) return undefined;
  return { redirectUrls, providers };
}

function publicUrl(env: Record<string, string | undefined>): string | undefined {
  const raw = env.PLINTH_PUBLIC_URL;
  if (raw === undefined || raw === '') return undefined;
  const problem = serverUrlProblem(raw);
  if (problem) throw new ConfigError('PLINTH_PUBLIC_URL', `${problem}; set it like https://api.example.com.`);
  return raw;
}

/**
 * Reads the configuration from environment variables, checking each. Defaults suit one instance
 * on one machine.
 *
 * @example
 * ```ts
 * const config = readConfig(process.env); // throws ConfigError('PORT', 'must be a whole number …')
 * ```
 */
export function readConfig(
  env: Record<string, string | undefined>,
  defaults: Partial<ServerConfig> = {},
): ServerConfig {
  const corsOrigins = (env.PLINTH_CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    try {
      if (new URL(origin).origin !== origin.replace(/\/$/, '')) throw new Error('not an origin');
    } catch {
      throw new ConfigError(
        'PLINTH_CORS_ORIGINS',
        `"${origin}" is not an origin; list them like https://app.example.com,http://localhost:5173.`,
      );
    }
  }
  const logLevel = env.PLINTH_LOG_LEVEL ?? defaults.logLevel ?? 'info';
  if (!logLevels.includes(logLevel))
    throw new ConfigError('PLINTH_LOG_LEVEL', `must be one of ${logLevels.join(', ')}.`);
  return {
    port: integer(env, 'PORT', defaults.port ?? 8787, 0, 65_535),
    hostname: env.PLINTH_HOST ?? defaults.hostname ?? '127.0.0.1',
    database:
      url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], 'postgres://user:password@host:5432/dbname') ??
      defaults.database ??
      '.plinth/data',
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:'], 'smtps://user:password@smtp.example.com:465'),
    trustedProxyHeader: trustedProxyHeader(env.PLINTH_TRUSTED_PROXY_HEADER),
    corsOrigins: corsOrigins.length > 0 ? corsOrigins : (defaults.corsOrigins ?? []),
    maxBodyBytes: integer(env, 'PLINTH_MAX_BODY_BYTES', defaults.maxBodyBytes ?? 1_048_576, 1024, 100 * 1_048_576),
    logLevel,
    publicUrl: publicUrl(env),
    oauth: oauthConfig(env),
    ...dataConfig(env),
    dataDatabaseUrl: url(
      env,
      'PLINTH_DATA_DATABASE_URL',
      ['postgres:', 'postgresql:'],
      'postgres://plinth_data:password@host:5432/dbname',
    ),
    ...slowClientConfig(env),
  };
}

/** How long a slow client may hold a connection; startServer checks how they relate. */
function slowClientConfig(env: Record<string, string | undefined>) {
  const optional = (name: string) =>
    env[name] === undefined || env[name] === '' ? undefined : integer(env, name, 0, 1, 3_600_000);
  return {
    headersTimeoutMs: optional('PLINTH_HEADERS_TIMEOUT_MS'),
    requestTimeoutMs: optional('PLINTH_REQUEST_TIMEOUT_MS'),
    keepAliveTimeoutMs: optional('PLINTH_KEEP_ALIVE_TIMEOUT_MS'),
  };
}

const schemaName = /^[a-z_][a-z0-9_]*$/;

/** The data API's variables, each checked here so a mistake is one line naming it. */
function dataConfig(env: Record<string, string | undefined>) {
  const schemaDir = env.PLINTH_SCHEMA_DIR || undefined;
  if (schemaDir !== undefined && !(existsSync(schemaDir) && statSync(schemaDir).isDirectory()))
    throw new ConfigError(
      'PLINTH_SCHEMA_DIR',
      `${resolve(schemaDir)} is not a directory; create it, or unset the variable.`,
    );
  const exposed = env.PLINTH_EXPOSED_SCHEMAS?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of exposed ?? []) {
    if (!schemaName.test(name))
      throw new ConfigError('PLINTH_EXPOSED_SCHEMAS', `"${name}" is not a schema name; list them like public,app.`);
  }
  const optionalInteger = (name: string, max: number) =>
    env[name] === undefined || env[name] === '' ? undefined : integer(env, name, 0, 1, max);
  return {
    schemaDir,
    exposedSchemas: exposed && exposed.length > 0 ? exposed : undefined,
    maxRows: optionalInteger('PLINTH_MAX_ROWS', 1_000_000),
    statementTimeoutMs: optionalInteger('PLINTH_STATEMENT_TIMEOUT_MS', 3_600_000),
    dataPoolSize: optionalInteger('PLINTH_DATA_POOL_SIZE', 1_000),
  };
}
