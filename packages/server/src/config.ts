import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { publishedTableName } from '@plinth/protocol';
import {
  type OAuthOptions,
  type OAuthProviderOptions,
  OAuthSettingsError,
  redirectUrlProblem,
  resolveOAuthProviders,
  serverUrlProblem,
} from './oauth/provider-config.js';
import type { S3Options } from './storage/s3-driver.js';

/** The server's configuration, resolved from options, the environment and the defaults. */
export interface ServerConfig {
  port: number;
  hostname: string;
  /** `memory`, a PGlite directory, or a `postgres://` URL. */
  database: string;
  /** PostgreSQL: how long the start waits for a database it cannot reach yet, in seconds (0: not at all). */
  databaseWaitSeconds: number;
  /**
   * PGlite in a directory: sync each commit to disk before answering it (default), or leave it to
   * the OS (faster; an OS crash or power cut can lose the last acknowledged writes).
   */
  databaseSync: boolean;
  /**
   * PostgreSQL: how long making a connection may take, in seconds: while the database is down, it
   * bounds how long a request waits before its 503.
   */
  databaseConnectTimeoutSeconds: number;
  redisUrl: string | undefined;
  smtpUrl: string | undefined;
  trustedProxyHeader: string | undefined;
  corsOrigins: readonly string[];
  maxBodyBytes: number;
  logLevel: string;
  /** The server's URL as browsers and providers reach it (OAuth callbacks). */
  publicUrl: string | undefined;
  /** OAuth providers and the redirect allow-list, when any are configured. */
  oauth: OAuthOptions | undefined;
  /** The app's schema directory, applied at start. */
  schemaDir: string | undefined;
  /** Schemas the data API serves. */
  exposedSchemas: readonly string[];
  /** The most rows one select answers. */
  maxRows: number;
  /** How long one data call may run, in ms. */
  statementTimeoutMs: number;
  /** PostgreSQL: the data login role's URL, when the operator made it. */
  dataDatabaseUrl: string | undefined;
  /** PostgreSQL: connections of the data pool. */
  dataPoolSize: number;
  /** Slow-client bounds, in ms. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /**
   * How long a stop waits for requests in flight and the work their answers promised, in ms;
   * then what is left is cut (503) and statements still running on PostgreSQL are cancelled.
   */
  shutdownTimeoutMs: number;
  /** Check every answer against its response schema (off when `NODE_ENV=production`). */
  validateResponses: boolean;
  /**
   * Where the local storage driver keeps object bytes. Unset: `.plinth/storage`, or, with the
   * `memory` database, a temporary directory removed when the server closes.
   */
  storageDir: string | undefined;
  /** Keep object bytes in a bucket of an S3-compatible service instead of on local disk. */
  s3: S3Options | undefined;
  /** Tables whose row changes realtime publishes, published at every start (`messages`, `app.rooms`). */
  realtimeTables: readonly string[];
  /** Realtime events older than this are deleted, in seconds. */
  realtimeRetentionSeconds: number;
  /** At most this many realtime events are kept (the newest). */
  realtimeRetentionEvents: number;
  /** A heartbeat comment on every open stream this often, in ms. */
  realtimeHeartbeatMs: number;
  /** Realtime streams one user may hold open on one instance. */
  realtimeMaxStreamsPerUser: number;
  /**
   * Master keys that encrypt secrets at rest, by version: each 32 random bytes, base64. Older
   * versions only decrypt. None: the secrets routes and `plinth secrets` refuse, saying how to set one.
   */
  secretsKeys: readonly SecretsKeyOption[];
  /** The version new secrets are encrypted with; unset, the highest of `secretsKeys`. */
  secretsKeyVersion: number | undefined;
  /** Webhooks may go to private and loopback addresses (local development only). */
  webhooksAllowPrivate: boolean;
  /** One webhook attempt's limit, in ms. */
  webhooksTimeoutMs: number;
}

/** One master key of {@link ServerConfig.secretsKeys}. */
export interface SecretsKeyOption {
  readonly version: number;
  /** 32 random bytes, base64 (`openssl rand -base64 32`). */
  readonly key: string;
}

/** What code may set; everything else of {@link ServerConfig} comes from the environment or a default. */
export type ConfigOptions = { [K in keyof ServerConfig]?: ServerConfig[K] };

/** Where a setting's value came from. */
export type ConfigSource = { from: 'option'; name: string } | { from: 'variable'; name: string } | { from: 'default' };

/** The resolved configuration and, per setting, where its value came from. */
export interface ResolvedConfig {
  config: ServerConfig;
  sources: { [K in keyof ServerConfig]: ConfigSource };
}

/** A configuration mistake: which option or variable, and how to fix it. The CLI prints it and exits 2. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** The variable each setting is read from. OAuth has many (`PLINTH_OAUTH_*`), read apart. */
export const configVariables: { [K in keyof ServerConfig]: string } = {
  port: 'PORT',
  hostname: 'PLINTH_HOST',
  database: 'DATABASE_URL',
  databaseWaitSeconds: 'PLINTH_DATABASE_WAIT_SECONDS',
  databaseSync: 'PLINTH_DATABASE_SYNC',
  databaseConnectTimeoutSeconds: 'PLINTH_DATABASE_CONNECT_TIMEOUT_SECONDS',
  redisUrl: 'REDIS_URL',
  smtpUrl: 'SMTP_URL',
  trustedProxyHeader: 'PLINTH_TRUSTED_PROXY_HEADER',
  corsOrigins: 'PLINTH_CORS_ORIGINS',
  maxBodyBytes: 'PLINTH_MAX_BODY_BYTES',
  logLevel: 'PLINTH_LOG_LEVEL',
  publicUrl: 'PLINTH_PUBLIC_URL',
  oauth: 'PLINTH_OAUTH_*',
  schemaDir: 'PLINTH_SCHEMA_DIR',
  exposedSchemas: 'PLINTH_EXPOSED_SCHEMAS',
  maxRows: 'PLINTH_MAX_ROWS',
  statementTimeoutMs: 'PLINTH_STATEMENT_TIMEOUT_MS',
  dataDatabaseUrl: 'PLINTH_DATA_DATABASE_URL',
  dataPoolSize: 'PLINTH_DATA_POOL_SIZE',
  headersTimeoutMs: 'PLINTH_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'PLINTH_REQUEST_TIMEOUT_MS',
  keepAliveTimeoutMs: 'PLINTH_KEEP_ALIVE_TIMEOUT_MS',
  shutdownTimeoutMs: 'PLINTH_SHUTDOWN_TIMEOUT_MS',
  validateResponses: 'NODE_ENV',
  storageDir: 'PLINTH_STORAGE_DIR',
  s3: 'PLINTH_S3_*',
  realtimeTables: 'PLINTH_REALTIME_TABLES',
  realtimeRetentionSeconds: 'PLINTH_REALTIME_RETENTION_SECONDS',
  realtimeRetentionEvents: 'PLINTH_REALTIME_RETENTION_EVENTS',
  realtimeHeartbeatMs: 'PLINTH_REALTIME_HEARTBEAT_MS',
  realtimeMaxStreamsPerUser: 'PLINTH_REALTIME_MAX_STREAMS_PER_USER',
  secretsKeys: 'PLINTH_SECRETS_KEYS',
  secretsKeyVersion: 'PLINTH_SECRETS_KEY_VERSION',
  webhooksAllowPrivate: 'PLINTH_WEBHOOKS_ALLOW_PRIVATE',
  webhooksTimeoutMs: 'PLINTH_WEBHOOKS_TIMEOUT_MS',
};

const builtInDefaults: ServerConfig = {
  // 0 picks a free port: right for tests and embedding. The CLI's default is 8787.
  port: 0,
  hostname: '127.0.0.1',
  database: '.plinth/data',
  // Containers routinely start before their database: long enough for one to come up.
  databaseWaitSeconds: 30,
  databaseSync: true,
  databaseConnectTimeoutSeconds: 2,
  redisUrl: undefined,
  smtpUrl: undefined,
  trustedProxyHeader: undefined,
  corsOrigins: [],
  maxBodyBytes: 1_048_576,
  logLevel: 'info',
  publicUrl: undefined,
  oauth: undefined,
  schemaDir: undefined,
  exposedSchemas: ['public'],
  maxRows: 1000,
  statementTimeoutMs: 10_000,
  dataDatabaseUrl: undefined,
  dataPoolSize: 10,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  shutdownTimeoutMs: 10_000,
  validateResponses: true,
  storageDir: undefined,
  s3: undefined,
  realtimeTables: [],
  realtimeRetentionSeconds: 24 * 3600,
  realtimeRetentionEvents: 100_000,
  realtimeHeartbeatMs: 15_000,
  realtimeMaxStreamsPerUser: 10,
  secretsKeys: [],
  secretsKeyVersion: undefined,
  webhooksAllowPrivate: false,
  webhooksTimeoutMs: 15_000,
};

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const schemaName = /^[a-z_][a-z0-9_]*$/;
const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A value as given: a string from the environment, or whatever code passed as an option. */
type Given = { name: string; value: unknown; fromVariable: boolean };

function integer(given: Given, min: number, max: number): number {
  const { name, value } = given;
  const number = given.fromVariable && /^\d+$/.test(String(value)) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max)
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}.`);
  return number;
}

function text(given: Given): string {
  if (typeof given.value !== 'string')
    throw new ConfigError(given.name, `must be a string; got ${JSON.stringify(given.value)}.`);
  return given.value;
}

function url(given: Given, protocols: string[], example: string): string {
  const raw = text(given);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(given.name, `is not a URL; set it like ${example}.`);
  }
  if (!protocols.includes(parsed.protocol))
    throw new ConfigError(given.name, `must start with ${protocols.join(' or ')}; set it like ${example}.`);
  return raw;
}

/** A comma-separated variable, or an array option. */
function list(given: Given): string[] {
  if (given.fromVariable)
    return text(given)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  if (!Array.isArray(given.value) || given.value.some((item) => typeof item !== 'string'))
    throw new ConfigError(given.name, `must be an array of strings; got ${JSON.stringify(given.value)}.`);
  return [...given.value];
}

const postgresExample = 'postgres://user:password@host:5432/dbname';

/** How each setting's given value is checked and turned into its value. */
const parsers: { [K in keyof ServerConfig]: (given: Given) => ServerConfig[K] } = {
  port: (given) => integer(given, 0, 65_535),
  hostname: (given) => {
    const host = text(given);
    if (host === '' || /\s/.test(host))
      throw new ConfigError(
        given.name,
        `must be an interface address such as 127.0.0.1 or 0.0.0.0; got ${JSON.stringify(host)}.`,
      );
    return host;
  },
  database: (given) => {
    // A variable is always a URL (PGlite is the default); code may also name `memory` or a directory.
    if (given.fromVariable || hasScheme.test(text(given)))
      return url(given, ['postgres:', 'postgresql:'], postgresExample);
    if (text(given) === '')
      throw new ConfigError(given.name, `must be memory, a directory or a URL like ${postgresExample}.`);
    return text(given);
  },
  databaseWaitSeconds: (given) => integer(given, 0, 600),
  databaseConnectTimeoutSeconds: (given) => integer(given, 1, 60),
  databaseSync: (given) => {
    if (given.fromVariable && ['on', '1', 'true'].includes(String(given.value))) return true;
    if (given.fromVariable && ['off', '0', 'false'].includes(String(given.value))) return false;
    if (typeof given.value !== 'boolean')
      throw new ConfigError(given.name, `must be on or off; got ${JSON.stringify(given.value)}.`);
    return given.value;
  },
  redisUrl: (given) => url(given, ['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  smtpUrl: (given) => url(given, ['smtp:', 'smtps:'], 'smtps://user:password@smtp.example.com:465'),
  trustedProxyHeader: (given) => {
    const header = text(given);
    if (!/^[A-Za-z0-9-]+$/.test(header))
      throw new ConfigError(
        given.name,
        `must be a header name such as x-forwarded-for; got ${JSON.stringify(header)}.`,
      );
    return header.toLowerCase();
  },
  corsOrigins: (given) => {
    const origins = list(given);
    for (const origin of origins) {
      let exact = false;
      try {
        exact = new URL(origin).origin === origin.replace(/\/$/, '');
      } catch {}
      if (!exact)
        throw new ConfigError(
          given.name,
          `"${origin}" is not an origin; list them like https://app.example.com,http://localhost:5173.`,
        );
    }
    return origins;
  },
  maxBodyBytes: (given) => integer(given, 1024, 100 * 1_048_576),
  logLevel: (given) => {
    const level = text(given);
    if (!logLevels.includes(level)) throw new ConfigError(given.name, `must be one of ${logLevels.join(', ')}.`);
    return level;
  },
  publicUrl: (given) => {
    const raw = text(given);
    const problem = serverUrlProblem(raw);
    if (problem) throw new ConfigError(given.name, `${problem}; set it like https://api.example.com.`);
    return raw;
  },
  oauth: (given) => {
    const oauth = given.value as OAuthOptions;
    try {
      resolveOAuthProviders(oauth);
    } catch (error) {
      if (!(error instanceof OAuthSettingsError)) throw error;
      const problem = error.message.slice(error.setting.length + 2);
      throw new ConfigError(given.fromVariable ? given.name : error.setting, problem);
    }
    return oauth;
  },
  schemaDir: (given) => {
    const dir = text(given);
    if (!(existsSync(dir) && statSync(dir).isDirectory()))
      throw new ConfigError(given.name, `${resolve(dir)} is not a directory; create it, or leave ${given.name} unset.`);
    return dir;
  },
  exposedSchemas: (given) => {
    const names = list(given);
    for (const name of names) {
      if (!schemaName.test(name))
        throw new ConfigError(given.name, `"${name}" is not a schema name; list them like public,app.`);
    }
    if (names.length === 0) throw new ConfigError(given.name, 'names no schema; list them like public,app.');
    return names;
  },
  maxRows: (given) => integer(given, 1, 1_000_000),
  statementTimeoutMs: (given) => integer(given, 1, 3_600_000),
  dataDatabaseUrl: (given) =>
    url(given, ['postgres:', 'postgresql:'], 'postgres://plinth_data:password@host:5432/dbname'),
  dataPoolSize: (given) => integer(given, 1, 1_000),
  headersTimeoutMs: (given) => integer(given, 1, 3_600_000),
  requestTimeoutMs: (given) => integer(given, 1, 3_600_000),
  keepAliveTimeoutMs: (given) => integer(given, 1, 3_600_000),
  // 0: nothing waits; every request still in flight at the stop is answered 503 at once.
  shutdownTimeoutMs: (given) => integer(given, 0, 3_600_000),
  storageDir: (given) => {
    const dir = text(given);
    if (dir.trim() === '') throw new ConfigError(given.name, 'must name a directory, such as .plinth/storage.');
    if (existsSync(dir) && !statSync(dir).isDirectory())
      throw new ConfigError(given.name, `${resolve(dir)} is a file, not a directory; name a directory.`);
    return dir;
  },
  realtimeTables: (given) => {
    const names = list(given);
    for (const name of names) {
      if (!publishedTableName.safeParse(name).success)
        throw new ConfigError(given.name, `"${name}" is not a table name; list them like messages,app.rooms.`);
    }
    return names;
  },
  realtimeRetentionSeconds: (given) => integer(given, 60, 365 * 24 * 3600),
  realtimeRetentionEvents: (given) => integer(given, 100, 1_000_000_000),
  realtimeHeartbeatMs: (given) => integer(given, 100, 300_000),
  realtimeMaxStreamsPerUser: (given) => integer(given, 1, 10_000),
  secretsKeys: (given) => {
    const example = 'like 1:<base64 of 32 random bytes>,2:<…> (make a key with openssl rand -base64 32)';
    const entries: unknown[] = given.fromVariable
      ? text(given)
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
          .map((item) => {
            const colon = item.indexOf(':');
            const version = item.slice(0, colon);
            return { version: /^\d+$/.test(version) ? Number(version) : version, key: item.slice(colon + 1) };
          })
      : Array.isArray(given.value)
        ? given.value
        : [given.value];
    const versions = new Set<number>();
    const keys = entries.map((entry) => {
      const { version, key } = (entry ?? {}) as { version?: unknown; key?: unknown };
      if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > 1_000_000)
        throw new ConfigError(given.name, `each key needs a version, a whole number from 1; set it ${example}.`);
      if (versions.has(version)) throw new ConfigError(given.name, `version ${version} is given twice.`);
      versions.add(version);
      if (typeof key !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(key) || Buffer.from(key, 'base64').length !== 32)
        throw new ConfigError(
          given.name,
          `the key of version ${version} is not base64 of 32 bytes; set it ${example}.`,
        );
      return { version, key };
    });
    if (keys.length === 0) throw new ConfigError(given.name, `names no key; set it ${example}.`);
    return keys;
  },
  secretsKeyVersion: (given) => integer(given, 1, 1_000_000),
  s3: (given) => {
    const s3 = given.value as Partial<S3Options> | null;
    const field = (name: keyof S3Options) =>
      given.fromVariable ? `PLINTH_S3_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}` : `s3.${name}`;
    if (typeof s3 !== 'object' || s3 === null)
      throw new ConfigError(
        given.name,
        'must be an object like { endpoint, region, bucket, accessKeyId, secretAccessKey }.',
      );
    url(
      { name: field('endpoint'), value: s3.endpoint, fromVariable: false },
      ['http:', 'https:'],
      'https://s3.eu-west-1.amazonaws.com',
    );
    for (const name of ['region', 'bucket', 'accessKeyId', 'secretAccessKey'] as const) {
      if (typeof s3[name] !== 'string' || s3[name] === '')
        throw new ConfigError(
          field(name),
          `required with ${field('endpoint')}: the ${name === 'bucket' ? 'S3 bucket that holds the bytes' : name === 'region' ? "bucket's region (us-east-1 for most S3-compatible services)" : 'credential of a key that may read and write that bucket'}.`,
        );
    }
    if (s3.prefix !== undefined && (typeof s3.prefix !== 'string' || !/^([^/\\\s]+\/)*$/.test(s3.prefix)))
      throw new ConfigError(field('prefix'), 'must be empty or end with "/", like plinth/.');
    return { ...s3 } as S3Options;
  },
  webhooksAllowPrivate: (given) => {
    if (given.fromVariable && ['1', 'true'].includes(String(given.value))) return true;
    if (given.fromVariable && ['0', 'false', ''].includes(String(given.value))) return false;
    if (typeof given.value !== 'boolean')
      throw new ConfigError(given.name, `must be true or false (1 or 0); got ${JSON.stringify(given.value)}.`);
    return given.value;
  },
  webhooksTimeoutMs: (given) => integer(given, 1_000, 30_000),
  validateResponses: (given) => {
    if (given.fromVariable) return given.value !== 'production';
    if (typeof given.value !== 'boolean')
      throw new ConfigError(given.name, `must be true or false; got ${JSON.stringify(given.value)}.`);
    return given.value;
  },
};

/**
 * S3 from `PLINTH_S3_ENDPOINT`, `_REGION` (default us-east-1), `_BUCKET`, `_ACCESS_KEY_ID`,
 * `_SECRET_ACCESS_KEY`, `_SESSION_TOKEN` and `_PREFIX`; undefined without an endpoint.
 */
function s3FromEnv(env: Record<string, string | undefined>): Record<string, string | undefined> | undefined {
  const endpoint = env.PLINTH_S3_ENDPOINT || undefined;
  if (endpoint === undefined) return undefined;
  const read = (name: string) => env[`PLINTH_S3_${name}`] || undefined;
  return {
    endpoint,
    region: read('REGION') ?? 'us-east-1',
    bucket: read('BUCKET'),
    accessKeyId: read('ACCESS_KEY_ID'),
    secretAccessKey: read('SECRET_ACCESS_KEY'),
    ...(read('SESSION_TOKEN') ? { sessionToken: read('SESSION_TOKEN') } : {}),
    ...(read('PREFIX') ? { prefix: read('PREFIX') } : {}),
  };
}

const providerVariable = /^PLINTH_OAUTH_([A-Z0-9_]+?)_(ISSUER|CLIENT_ID|CLIENT_SECRET|PRESET)$/;

/**
 * OAuth from `PLINTH_OAUTH_REDIRECT_URLS` (comma-separated, matched exactly) and, per provider
 * `<NAME>` (the route's `:provider`, lower-cased), `PLINTH_OAUTH_<NAME>_CLIENT_ID`,
 * `_CLIENT_SECRET`, `_ISSUER` (an OpenID Connect issuer) and `_PRESET` (`github` or `google`;
 * implied by the names GITHUB and GOOGLE, where `_ISSUER` is optional).
 */
function oauthFromEnv(env: Record<string, string | undefined>): OAuthOptions | undefined {
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

/**
 * The one resolution of the server's configuration, for `startServer()` and the CLI alike. Each
 * setting is the option given in code, else its environment variable, else the caller's default
 * (`plinth dev`'s database path and CORS origins, the CLI's port 8787), else the built-in one. An
 * option or a variable is checked with the same bounds, and a bad one is a {@link ConfigError}
 * naming it (the option's name, or the variable's) and the fix. An empty variable counts as unset.
 *
 * @example
 * ```ts
 * const { config, sources } = resolveConfig({ maxRows: 500 }, process.env, { port: 8787 });
 * config.maxRows; // 500, sources.maxRows = { from: 'option', name: 'maxRows' }
 * resolveConfig({}, { PLINTH_MAX_ROWS: '0' }); // throws ConfigError('PLINTH_MAX_ROWS', 'must be a whole number from 1 …')
 * ```
 */
export function resolveConfig(
  options: ConfigOptions = {},
  env: Record<string, string | undefined> = {},
  defaults: ConfigOptions = {},
): ResolvedConfig {
  const config: Record<string, unknown> = {};
  const sources: Record<string, ConfigSource> = {};
  for (const key of Object.keys(builtInDefaults) as (keyof ServerConfig)[]) {
    const option = options[key];
    const variable = configVariables[key];
    const parse = parsers[key] as (given: Given) => unknown;
    if (option !== undefined) {
      config[key] = parse({ name: key, value: option, fromVariable: false });
      sources[key] = { from: 'option', name: key };
      continue;
    }
    // An option wins outright: a bad variable it overrides is not read, so it cannot fail the start.
    const raw = key === 'oauth' ? oauthFromEnv(env) : key === 's3' ? s3FromEnv(env) : env[variable] || undefined;
    if (raw !== undefined) {
      config[key] = parse({ name: variable, value: raw, fromVariable: true });
      sources[key] = { from: 'variable', name: variable };
    } else {
      config[key] = defaults[key] ?? builtInDefaults[key];
      sources[key] = { from: 'default' };
    }
  }
  const resolved = { config, sources } as unknown as ResolvedConfig;
  const named = (key: keyof ServerConfig) => {
    const source = resolved.sources[key];
    return source.from === 'variable' ? source.name : key;
  };
  const { secretsKeys, secretsKeyVersion } = resolved.config;
  if (secretsKeyVersion !== undefined && !secretsKeys.some((key) => key.version === secretsKeyVersion))
    throw new ConfigError(
      named('secretsKeyVersion'),
      `${secretsKeyVersion} is not a version of ${named('secretsKeys')} (${secretsKeys.map((key) => key.version).join(', ') || 'none'}); add that key, or choose one of those.`,
    );
  const { headersTimeoutMs, requestTimeoutMs } = resolved.config;
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError(
      named('headersTimeoutMs'),
      `${headersTimeoutMs} is over ${named('requestTimeoutMs')} (${requestTimeoutMs}); the headers are part of the request, so lower it or raise the other.`,
    );
  return resolved;
}

/**
 * The configuration from environment variables alone: {@link resolveConfig} without options.
 *
 * @example
 * ```ts
 * const config = readConfig(process.env); // throws ConfigError('PORT', 'must be a whole number …')
 * ```
 */
export function readConfig(env: Record<string, string | undefined>, defaults: ConfigOptions = {}): ServerConfig {
  return resolveConfig({}, env, defaults).config;
}
