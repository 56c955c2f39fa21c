import { join } from 'node:path';
import { type ConfigOptions, type ConfigSource, resolveConfig, type ServerConfig } from './config.js';

/** Where `plinth config` writes and which environment it reads (the CLI's `CliIo`). */
export interface ConfigCommandIo {
  stdout: (line: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** A mistake in `plinth config`'s own arguments; the CLI prints it and exits 2. */
export class ConfigUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigUsageError';
  }
}

/**
 * The CLI's defaults, under the environment: port 8787 for `plinth start`, and for `plinth dev`
 * (and the key commands, which must find its database) PGlite in `<cwd>/.plinth/data` and the
 * usual dev-server origins.
 *
 * @example
 * ```ts
 * const defaults = cliConfigDefaults(process.cwd(), true); // { port: 8787, database: '…/.plinth/data', corsOrigins: [...] }
 * ```
 */
export function cliConfigDefaults(cwd: string, dev: boolean): ConfigOptions {
  if (!dev) return { port: 8787 };
  return {
    port: 8787,
    database: join(cwd, '.plinth', 'data'),
    corsOrigins: ['http://localhost:5173', 'http://127.0.0.1:5173'],
  };
}

const hidden = '***';

/**
 * A URL with its password hidden, and for SMTP its user name too (a mail account is itself a
 * credential worth not printing). Anything that does not parse is shown as it is: resolveConfig
 * only lets URLs through where one is expected.
 */
function maskUrl(raw: string, hideUser: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.password) url.password = hidden;
  if (hideUser && url.username) url.username = hidden;
  return url.toString();
}

function sourceText(source: ConfigSource): string {
  return source.from === 'default' ? 'default' : `${source.from} ${source.name}`;
}

function show(value: unknown): string {
  if (value === undefined) return '(none)';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  return String(value);
}

/** One `[name, value, source]` per setting, secrets masked; OAuth one line per provider field. */
function configLines(config: ServerConfig, sources: Record<keyof ServerConfig, ConfigSource>): string[][] {
  const lines: string[][] = [];
  for (const key of Object.keys(sources) as (keyof ServerConfig)[]) {
    const source = sources[key];
    const value = config[key];
    if (key === 'oauth' && config.oauth) {
      const { oauth } = config;
      const fromEnv = source.from === 'variable';
      const at = (variable: string) => (fromEnv ? `variable ${variable}` : sourceText(source));
      lines.push(['oauth.redirectUrls', show(oauth.redirectUrls), at('PLINTH_OAUTH_REDIRECT_URLS')]);
      for (const [name, provider] of Object.entries(oauth.providers)) {
        const variable = (suffix: string) => `PLINTH_OAUTH_${name.toUpperCase()}_${suffix}`;
        lines.push([`oauth.${name}.clientId`, provider.clientId, at(variable('CLIENT_ID'))]);
        lines.push([`oauth.${name}.clientSecret`, hidden, at(variable('CLIENT_SECRET'))]);
        if (provider.issuer) lines.push([`oauth.${name}.issuer`, provider.issuer, at(variable('ISSUER'))]);
        if (provider.preset) lines.push([`oauth.${name}.preset`, provider.preset, at(variable('PRESET'))]);
      }
      continue;
    }
    let text = show(value);
    // The versions only: a master key is never printed.
    if (key === 'secretsKeys')
      text =
        config.secretsKeys.length === 0 ? '(none)' : config.secretsKeys.map((k) => `${k.version}:${hidden}`).join(',');
    if (key === 'smtpUrl' && config.smtpUrl) text = maskUrl(config.smtpUrl, true);
    if ((key === 'database' || key === 'dataDatabaseUrl' || key === 'redisUrl') && typeof value === 'string')
      text = maskUrl(value, false);
    lines.push([key, text, sourceText(source)]);
  }
  return lines;
}

/**
 * `plinth config [--dev]`: the configuration `plinth start` (or with `--dev`, `plinth dev`) would
 * run with, one line per setting: its name, its value (passwords, SMTP credentials, OAuth
 * client secrets and secrets' master keys masked) and where it came from. A bad value throws the same ConfigError as the
 * start would.
 *
 * @example
 * ```ts
 * runConfigCommand(['--dev'], { stdout: console.log, env: process.env, cwd: process.cwd() });
 * // port                 8787                     default
 * // maxRows              500                      variable PLINTH_MAX_ROWS
 * ```
 */
export function runConfigCommand(args: readonly string[], io: ConfigCommandIo): number {
  const unknown = args.find((arg) => arg !== '--dev');
  if (unknown !== undefined)
    throw new ConfigUsageError(`config: unknown argument ${JSON.stringify(unknown)}; use plinth config [--dev].`);
  const { config, sources } = resolveConfig({}, io.env, cliConfigDefaults(io.cwd, args.includes('--dev')));
  const lines = configLines(config, sources);
  const nameWidth = Math.max(...lines.map(([name]) => name?.length ?? 0));
  const valueWidth = Math.max(...lines.map(([, value]) => value?.length ?? 0));
  for (const [name = '', value = '', source = ''] of lines)
    io.stdout(`${name.padEnd(nameWidth)}  ${value.padEnd(valueWidth)}  ${source}`);
  return 0;
}
