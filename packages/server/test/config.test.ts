import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type CliIo, runCli } from '../src/cli.js';
import { ConfigError, resolveConfig } from '../src/config.js';
import { type StartServerOptions, startServer } from '../src/start-server.js';

const scratch = mkdtempSync(join(tmpdir(), 'plinth-config-'));
const aFile = join(scratch, 'not-a-dir.sql');
writeFileSync(aFile, '');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
});

function cliIo(env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    env,
    cwd: scratch,
    stopSignal: new Promise(() => {}),
  };
  return { io, out, err };
}

/**
 * The start's error; a start that unexpectedly succeeds is closed and reported as undefined. The
 * memory database is only a default (under the environment), so a start that should have failed
 * leaves nothing on disk.
 */
async function startError(options: StartServerOptions = {}): Promise<unknown> {
  try {
    const server = await startServer({ configDefaults: { database: 'memory', logLevel: 'silent' }, ...options });
    await server.close();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** A well-formed master key of secrets: base64 of 32 bytes. */
const key32 = Buffer.alloc(32, 7).toString('base64');

// Variable, bad value, and what the message must say after "<VARIABLE>: ".
const badVariables: [string, string, RegExp][] = [
  ['PORT', 'eighty', /^must be a whole number from 0 to 65535; got "eighty"\.$/],
  ['PORT', '70000', /^must be a whole number from 0 to 65535/],
  ['PLINTH_HOST', 'local host', /^must be an interface address/],
  ['DATABASE_URL', 'mysql://x@y/z', /^must start with postgres: or postgresql:/],
  ['DATABASE_URL', 'not a url', /^is not a URL; set it like postgres:\/\//],
  ['REDIS_URL', 'http://x', /^must start with redis: or rediss:/],
  ['SMTP_URL', 'http://mail.example.com', /^must start with smtp: or smtps:/],
  ['PLINTH_TRUSTED_PROXY_HEADER', 'x forwarded for', /^must be a header name/],
  ['PLINTH_CORS_ORIGINS', 'https://app.example.com/path', /^"https:\/\/app\.example\.com\/path" is not an origin/],
  ['PLINTH_MAX_BODY_BYTES', '10', /^must be a whole number from 1024 to 104857600/],
  ['PLINTH_LOG_LEVEL', 'loud', /^must be one of fatal, error/],
  ['PLINTH_PUBLIC_URL', 'http://api.example.com', /^must use https \(http only on localhost\); set it like/],
  ['PLINTH_OAUTH_REDIRECT_URLS', 'javascript:alert(1)', /^"javascript:alert\(1\)" /],
  ['PLINTH_SCHEMA_DIR', join(scratch, 'missing'), /is not a directory; create it, or leave PLINTH_SCHEMA_DIR unset\.$/],
  ['PLINTH_SCHEMA_DIR', aFile, /is not a directory/],
  ['PLINTH_EXPOSED_SCHEMAS', 'public,"x"', /^""x"" is not a schema name/],
  [
    'PLINTH_REALTIME_TABLES',
    'messages,bad-name',
    /^"bad-name" is not a table name; list them like messages,app\.rooms\.$/,
  ],
  ['PLINTH_REALTIME_TABLES', 'a.b.c', /^"a\.b\.c" is not a table name/],
  ['PLINTH_REALTIME_RETENTION_SECONDS', '59', /^must be a whole number from 60 to 31536000/],
  ['PLINTH_REALTIME_RETENTION_EVENTS', '99', /^must be a whole number from 100 to 1000000000/],
  ['PLINTH_REALTIME_HEARTBEAT_MS', '99', /^must be a whole number from 100 to 300000/],
  ['PLINTH_REALTIME_MAX_STREAMS_PER_USER', '0', /^must be a whole number from 1 to 10000/],
  ['PLINTH_MAX_ROWS', '0', /^must be a whole number from 1 to 1000000; got "0"\.$/],
  ['PLINTH_MAX_ROWS', 'many', /^must be a whole number from 1 to 1000000/],
  ['PLINTH_STATEMENT_TIMEOUT_MS', '-5', /^must be a whole number from 1 to 3600000/],
  ['PLINTH_DATA_DATABASE_URL', 'http://x', /^must start with postgres: or postgresql:/],
  ['PLINTH_DATA_POOL_SIZE', '0', /^must be a whole number from 1 to 1000/],
  ['PLINTH_DATA_POOL_SIZE', '2.5', /^must be a whole number from 1 to 1000/],
  ['PLINTH_HEADERS_TIMEOUT_MS', '0', /^must be a whole number from 1 to 3600000/],
  ['PLINTH_REQUEST_TIMEOUT_MS', 'slow', /^must be a whole number from 1 to 3600000/],
  ['PLINTH_KEEP_ALIVE_TIMEOUT_MS', '99999999', /^must be a whole number from 1 to 3600000/],
  ['PLINTH_SHUTDOWN_TIMEOUT_MS', '-1', /^must be a whole number from 0 to 3600000/],
  ['PLINTH_DATABASE_SYNC', 'maybe', /^must be on or off; got "maybe"\./],
  ['PLINTH_DATABASE_CONNECT_TIMEOUT_SECONDS', '0', /^must be a whole number from 1 to 60/],
  ['PLINTH_STORAGE_DIR', aFile, /is a file, not a directory; name a directory\.$/],
  ['PLINTH_STORAGE_DIR', '   ', /^must name a directory, such as \.plinth\/storage\.$/],
  ['PLINTH_SECRETS_KEYS', `1:${'A'.repeat(43)}`, /^the key of version 1 is not base64 of 32 bytes/],
  ['PLINTH_SECRETS_KEYS', `one:${key32}`, /^each key needs a version, a whole number from 1/],
  ['PLINTH_SECRETS_KEYS', key32, /^each key needs a version/],
  ['PLINTH_SECRETS_KEYS', `1:${key32},1:${key32}`, /^version 1 is given twice\.$/],
  ['PLINTH_SECRETS_KEY_VERSION', '0', /^must be a whole number from 1 to 1000000/],
];

describe('a bad variable stops startServer() and `plinth start` with the same message', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    ...badVariables.map(([name, value, problem]): [Record<string, string>, string, RegExp] => [
      { [name]: value },
      name,
      problem,
    ]),
    [
      { PLINTH_HEADERS_TIMEOUT_MS: '5000', PLINTH_REQUEST_TIMEOUT_MS: '1000' },
      'PLINTH_HEADERS_TIMEOUT_MS',
      /^5000 is over PLINTH_REQUEST_TIMEOUT_MS \(1000\)/,
    ],
    [
      { PLINTH_OAUTH_OKTA_CLIENT_ID: 'abc', PLINTH_OAUTH_OKTA_ISSUER: 'https://idp.example.com' },
      'PLINTH_OAUTH_OKTA_CLIENT_SECRET',
      /^required: the client secret/,
    ],
  ];
  for (const [env, variable, problem] of cases) {
    it(`${Object.entries(env)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')}`, async () => {
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      const fromStart = await startError();
      vi.unstubAllEnvs();
      expect(fromStart).toBeInstanceOf(ConfigError);
      const message = (fromStart as ConfigError).message;
      expect((fromStart as ConfigError).variable).toBe(variable);
      expect(message.slice(`${variable}: `.length)).toMatch(problem);

      const { io, out, err } = cliIo(env);
      expect(await runCli(['start'], io)).toBe(2);
      expect(err).toEqual([`plinth: ${message}`]);
      expect(out).toEqual([]);

      // `plinth config` refuses the same value the same way.
      const shown = cliIo(env);
      expect(await runCli(['config'], shown.io)).toBe(2);
      expect(shown.err).toEqual([`plinth: ${message}`]);
    });
  }
});

describe('a bad option stops startServer() naming the option, with the same bounds', () => {
  const cases: [StartServerOptions, string, RegExp][] = [
    [{ maxRows: 0 }, 'maxRows', /^must be a whole number from 1 to 1000000; got 0\.$/],
    [{ maxRows: 1.5 }, 'maxRows', /^must be a whole number from 1 to 1000000; got 1\.5\.$/],
    [{ port: -1 }, 'port', /^must be a whole number from 0 to 65535/],
    [{ port: 70_000 }, 'port', /^must be a whole number from 0 to 65535/],
    [{ hostname: '' }, 'hostname', /^must be an interface address/],
    [{ database: 'mysql://x@y/z' }, 'database', /^must start with postgres: or postgresql:/],
    [{ redisUrl: 'http://x' }, 'redisUrl', /^must start with redis: or rediss:/],
    [{ smtpUrl: 'http://x' }, 'smtpUrl', /^must start with smtp: or smtps:/],
    [{ trustedProxyHeader: 'a b' }, 'trustedProxyHeader', /^must be a header name/],
    [{ corsOrigins: ['https://app.example.com/path'] }, 'corsOrigins', /is not an origin/],
    [{ maxBodyBytes: 10 }, 'maxBodyBytes', /^must be a whole number from 1024 to 104857600; got 10\.$/],
    [{ logLevel: 'loud' }, 'logLevel', /^must be one of/],
    [{ publicUrl: 'http://api.example.com' }, 'publicUrl', /^must use https/],
    [
      { schemaDir: join(scratch, 'missing') },
      'schemaDir',
      /is not a directory; create it, or leave schemaDir unset\.$/,
    ],
    [{ exposedSchemas: ['"x"'] }, 'exposedSchemas', /^""x"" is not a schema name/],
    [{ statementTimeoutMs: 0 }, 'statementTimeoutMs', /^must be a whole number from 1 to 3600000/],
    [{ dataDatabaseUrl: 'http://x' }, 'dataDatabaseUrl', /^must start with postgres: or postgresql:/],
    [{ dataPoolSize: 0 }, 'dataPoolSize', /^must be a whole number from 1 to 1000/],
    [{ headersTimeoutMs: 0 }, 'headersTimeoutMs', /^must be a whole number from 1 to 3600000/],
    [{ keepAliveTimeoutMs: Number.NaN }, 'keepAliveTimeoutMs', /^must be a whole number from 1 to 3600000/],
    [{ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 }, 'headersTimeoutMs', /^5000 is over requestTimeoutMs/],
    [{ maxRows: '10' as unknown as number }, 'maxRows', /^must be a whole number from 1 to 1000000; got "10"\.$/],
    [{ validateResponses: 'yes' as unknown as boolean }, 'validateResponses', /^must be true or false/],
    [{ oauth: { redirectUrls: ['javascript:x'], providers: {} } }, 'oauth.redirectUrls[0]', /^"javascript:x" /],
    [{ secretsKeys: [{ version: 1, key: 'short' }] }, 'secretsKeys', /^the key of version 1 is not base64 of 32 bytes/],
    [{ secretsKeys: [] }, 'secretsKeys', /^names no key/],
    [
      { secretsKeys: [{ version: 1, key: key32 }], secretsKeyVersion: 2 },
      'secretsKeyVersion',
      /^2 is not a version of secretsKeys \(1\); add that key, or choose one of those\.$/,
    ],
  ];
  for (const [options, name, problem] of cases) {
    it(`${JSON.stringify(options)}`, async () => {
      const error = await startError({ logLevel: 'silent', ...options });
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(name);
      expect((error as ConfigError).message.slice(`${name}: `.length)).toMatch(problem);
    });
  }
});

describe('resolveConfig', () => {
  it('takes the option, else the variable, else the caller default, else the built-in one, and says which', () => {
    const { config, sources } = resolveConfig(
      { maxRows: 5 },
      { PLINTH_MAX_ROWS: '50', PLINTH_STATEMENT_TIMEOUT_MS: '2000', PORT: '9000' },
      { port: 8787, statementTimeoutMs: 1, dataPoolSize: 3 },
    );
    expect(config.maxRows).toBe(5);
    expect(sources.maxRows).toEqual({ from: 'option', name: 'maxRows' });
    expect(config.statementTimeoutMs).toBe(2000);
    expect(sources.statementTimeoutMs).toEqual({ from: 'variable', name: 'PLINTH_STATEMENT_TIMEOUT_MS' });
    expect(config.port).toBe(9000);
    expect(config.dataPoolSize).toBe(3);
    expect(sources.dataPoolSize).toEqual({ from: 'default' });
    expect(config.keepAliveTimeoutMs).toBe(5000);
    expect(sources.keepAliveTimeoutMs).toEqual({ from: 'default' });
    expect(resolveConfig({}, {}).config.port).toBe(0);
  });

  it('does not read a variable an option overrides, so a bad one cannot fail the start', () => {
    const { config } = resolveConfig(
      { maxRows: 7, oauth: { redirectUrls: [], providers: {} } },
      { PLINTH_MAX_ROWS: 'bad', PLINTH_OAUTH_X_CLIENT_ID: 'only-an-id' },
    );
    expect(config.maxRows).toBe(7);
  });

  it('treats an empty variable as unset, and NODE_ENV=production turns response checks off', () => {
    const { config, sources } = resolveConfig({}, { PLINTH_MAX_ROWS: '', NODE_ENV: 'production' });
    expect(config.maxRows).toBe(1000);
    expect(sources.maxRows).toEqual({ from: 'default' });
    expect(config.validateResponses).toBe(false);
    expect(sources.validateResponses).toEqual({ from: 'variable', name: 'NODE_ENV' });
  });
});

describe('plinth config', () => {
  const secrets = ['s3cret', 'mailer', 'hunter2', 'redispw', 'datapw', 'ghsecret', key32];
  const env = {
    DATABASE_URL: 'postgres://app:s3cret@db.internal:5432/app',
    SMTP_URL: 'smtps://mailer:hunter2@smtp.example.com:465',
    REDIS_URL: 'redis://:redispw@cache.internal:6379',
    PLINTH_DATA_DATABASE_URL: 'postgres://plinth_data:datapw@db.internal:5432/app',
    PLINTH_MAX_ROWS: '500',
    PLINTH_OAUTH_REDIRECT_URLS: 'https://app.example.com/auth/callback',
    PLINTH_OAUTH_GITHUB_CLIENT_ID: 'Iv1.0123',
    PLINTH_OAUTH_GITHUB_CLIENT_SECRET: 'ghsecret',
    PLINTH_SECRETS_KEYS: `1:${key32}`,
  };

  it('prints each setting with its value and where it came from, secrets masked', async () => {
    const { io, out, err } = cliIo(env);
    expect(await runCli(['config'], io)).toBe(0);
    expect(err).toEqual([]);
    const rows = Object.fromEntries(out.map((line) => [line.split(/\s+/)[0], line.split(/\s{2,}/).slice(1)]));
    expect(rows.port).toEqual(['8787', 'default']);
    expect(rows.maxRows).toEqual(['500', 'variable PLINTH_MAX_ROWS']);
    expect(rows.statementTimeoutMs).toEqual(['10000', 'default']);
    expect(rows.database).toEqual(['postgres://app:***@db.internal:5432/app', 'variable DATABASE_URL']);
    expect(rows.dataDatabaseUrl).toEqual([
      'postgres://plinth_data:***@db.internal:5432/app',
      'variable PLINTH_DATA_DATABASE_URL',
    ]);
    expect(rows.smtpUrl).toEqual(['smtps://***:***@smtp.example.com:465', 'variable SMTP_URL']);
    expect(rows.redisUrl).toEqual(['redis://:***@cache.internal:6379', 'variable REDIS_URL']);
    expect(rows['oauth.github.clientId']).toEqual(['Iv1.0123', 'variable PLINTH_OAUTH_GITHUB_CLIENT_ID']);
    expect(rows['oauth.github.clientSecret']).toEqual(['***', 'variable PLINTH_OAUTH_GITHUB_CLIENT_SECRET']);
    expect(rows.publicUrl).toEqual(['(none)', 'default']);
    expect(rows.secretsKeys).toEqual(['1:***', 'variable PLINTH_SECRETS_KEYS']);
    for (const secret of secrets) expect(out.join('\n')).not.toContain(secret);
  });

  it('--dev shows plinth dev defaults: the database in .plinth/ and the dev origins', async () => {
    const { io, out } = cliIo({});
    expect(await runCli(['config', '--dev'], io)).toBe(0);
    const line = (name: string) => out.find((row) => row.startsWith(`${name} `));
    expect(line('database')).toMatch(new RegExp(`${join(scratch, '.plinth', 'data')}\\s+default$`));
    expect(line('corsOrigins')).toMatch(/http:\/\/localhost:5173,http:\/\/127\.0\.0\.1:5173\s+default$/);
  });

  it('an unknown argument is one line and exit 2', async () => {
    const { io, err } = cliIo({});
    expect(await runCli(['config', '--json'], io)).toBe(2);
    expect(err).toEqual(['plinth: config: unknown argument "--json"; use plinth config [--dev].']);
  });
});
