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
  };
}
