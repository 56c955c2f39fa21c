import { type ApiKeyScope, apiKeyScopes } from '@plinth/protocol';
import type { Database } from '../database/database.js';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys.js';

/** Where the `plinth keys` commands write. */
export interface KeysCommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** A usage mistake in `plinth keys …`: printed as one line, exit code 2. */
export class KeysUsageError extends Error {
  override readonly name = 'KeysUsageError';
}

const maxLifetimeSeconds = 10 * 365 * 24 * 3600;
const units: Record<string, number> = { m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };

/**
 * `--expires-in` as seconds: a whole number followed by m, h, d or w (`30d`).
 *
 * @example
 * ```ts
 * parseExpiresIn('30d'); // 2592000
 * ```
 */
export function parseExpiresIn(raw: string): number {
  const match = /^(\d{1,6})([mhdw])$/.exec(raw);
  const seconds = match ? Number(match[1]) * (units[match[2] as string] as number) : 0;
  if (seconds < 60 || seconds > maxLifetimeSeconds)
    throw new KeysUsageError(
      `--expires-in: must be a whole number and a unit (m, h, d or w) from 1m to 10 years, like 30d; got ${JSON.stringify(raw)}.`,
    );
  return seconds;
}

function parseScopes(raw: string): ApiKeyScope[] {
  const scopes = raw.split(',').map((scope) => scope.trim());
  for (const scope of scopes)
    if (!(apiKeyScopes as readonly string[]).includes(scope))
      throw new KeysUsageError(
        `--scopes: ${JSON.stringify(scope)} is not a scope; use some of ${apiKeyScopes.join(',')}.`,
      );
  return scopes as ApiKeyScope[];
}

function flags(args: readonly string[], known: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i] as string;
    const value = args[i + 1];
    if (!known.includes(name)) throw new KeysUsageError(`${name}: not an option here; use ${known.join(', ')}.`);
    if (value === undefined) throw new KeysUsageError(`${name}: needs a value.`);
    found.set(name, value);
  }
  return found;
}

const column = (value: string | null, width: number) => (value ?? '-').padEnd(width);

/**
 * `plinth keys create|list|revoke …` on the configured database, offline (no server needed);
 * the database is opened only once the arguments are known to be right, and closed after. Keys
 * made here are owned by `cli`. Answers the exit code; a usage mistake throws
 * {@link KeysUsageError}.
 *
 * @example
 * ```ts
 * await runKeysCommand(['create', '--name', 'ci', '--scopes', 'data:read'], () => openDatabase(config.database), io);
 * ```
 */
export async function runKeysCommand(
  args: readonly string[],
  open: () => Promise<Database>,
  io: KeysCommandIo,
): Promise<number> {
  const work = planKeysCommand(args, io);
  const database = await open();
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

function planKeysCommand(args: readonly string[], io: KeysCommandIo): (database: Database) => Promise<number> {
  const [command, ...rest] = args;
  if (command === 'create') {
    const given = flags(rest, ['--name', '--scopes', '--expires-in']);
    const name = given.get('--name');
    const scopes = given.get('--scopes');
    if (!name || name.length > 100 || /\p{Cc}/u.test(name))
      throw new KeysUsageError(
        '--name: give 1 to 100 characters, no control characters, like --name "nightly export".',
      );
    if (!scopes) throw new KeysUsageError(`--scopes: give one or more of ${apiKeyScopes.join(',')}.`);
    const expiresIn = given.get('--expires-in');
    const seconds = expiresIn === undefined ? undefined : parseExpiresIn(expiresIn);
    const scopeList = parseScopes(scopes);
    return async (database) => {
      const expiresAt = seconds === undefined ? undefined : new Date(Date.now() + seconds * 1000);
      const { key, apiKey } = await createApiKey(database, {
        name,
        scopes: scopeList,
        expiresAt,
        owner: { kind: 'cli' },
      });
      io.stdout(
        `API key ${apiKey.prefix} (${apiKey.scopes.join(',')}${apiKey.expiresAt ? `, expires ${apiKey.expiresAt}` : ''}), shown once:`,
      );
      io.stdout(key);
      return 0;
    };
  }
  if (command === 'list' && rest.length === 0) {
    return async (database) => {
      const keys = await listApiKeys(database);
      if (keys.length === 0) io.stdout('No API keys. Make one: plinth keys create --name N --scopes data:read');
      for (const key of keys) {
        const state = key.revokedAt
          ? 'revoked'
          : key.expiresAt && Date.parse(key.expiresAt) <= Date.now()
            ? 'expired'
            : 'active';
        io.stdout(
          `${key.prefix}  ${state.padEnd(7)}  ${column(key.scopes.join(','), 24)}  last used ${column(key.lastUsedAt, 24)}  ${key.name}`,
        );
      }
      return 0;
    };
  }
  if (command === 'revoke' && rest.length === 1) {
    const prefix = rest[0] as string;
    if (!/^[A-Za-z0-9]{8}$/.test(prefix))
      throw new KeysUsageError(
        `revoke: give the key's 8-character prefix (plinth keys list shows it); got ${JSON.stringify(prefix)}.`,
      );
    return async (database) => {
      const revoked = await revokeApiKey(database, { prefix });
      if (!revoked) {
        io.stderr(`plinth: no API key has prefix ${prefix}; plinth keys list shows them.`);
        return 1;
      }
      io.stdout(`API key ${prefix} revoked at ${revoked.revokedAt}; requests with it now get 401.`);
      return 0;
    };
  }
  throw new KeysUsageError(
    'keys: use plinth keys create --name N --scopes a,b [--expires-in 30d] | keys list | keys revoke <prefix> | keys rotate',
  );
}
