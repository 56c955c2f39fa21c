import { publishedTableName } from '@plinth/protocol';
import type { AppSchemaFile } from '../database/app-schema.js';
import type { Database } from '../database/database.js';
import { DirectoryInUseError } from '../database/directory-lock.js';

/** Where the `plinth realtime` commands write. */
export interface RealtimeCommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** A usage mistake in `plinth realtime …`: printed as one line, exit code 2. */
export class RealtimeUsageError extends Error {
  override readonly name = 'RealtimeUsageError';
}

/** A table to publish, with the columns its events never carry. */
export interface PublishedTable {
  readonly name: string;
  readonly exclude?: readonly string[];
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
const columnName = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * The statements that publish `tables` (or stop publishing them), as a schema file applied after
 * the app's own as `plinth_owner`, who owns the tables and so may add their triggers. Names are
 * checked before they are quoted; `plinth.publish_table` says what is wrong with a table.
 *
 * @example
 * ```ts
 * await openDatabase(location, { appSchema: [publishingFile([{ name: 'messages', exclude: ['secret'] }])] });
 * ```
 */
export function publishingFile(tables: readonly PublishedTable[], unpublish: readonly string[] = []): AppSchemaFile {
  const statements: string[] = [];
  for (const table of tables) {
    if (!publishedTableName.safeParse(table.name).success)
      throw new RealtimeUsageError(`"${table.name}" is not a table name; name it like messages or app.rooms.`);
    const bad = (table.exclude ?? []).find((column) => !columnName.test(column));
    if (bad !== undefined) throw new RealtimeUsageError(`--exclude: "${bad}" is not a column name.`);
    const exclude = (table.exclude ?? []).map(literal).join(', ');
    statements.push(`SELECT plinth.publish_table(${literal(table.name)}, ARRAY[${exclude}]::text[]);`);
  }
  for (const name of unpublish) {
    if (!publishedTableName.safeParse(name).success)
      throw new RealtimeUsageError(`"${name}" is not a table name; name it like messages or app.rooms.`);
    statements.push(`SELECT plinth.unpublish_table(${literal(name)});`);
  }
  return { name: 'realtime tables (PLINTH_REALTIME_TABLES, plinth realtime)', sql: statements.join('\n') };
}

/**
 * `plinth realtime publish TABLE [--exclude col,…]`, `plinth realtime unpublish TABLE` and
 * `plinth realtime list`, on the server's database. `open` opens it with a schema file to
 * apply (or none). Resolves with the exit code.
 *
 * @example
 * ```ts
 * await runRealtimeCommand(['publish', 'messages'], (file) => openDatabase('.plinth/data', file ? { appSchema: [file] } : {}), io);
 * ```
 */
export async function runRealtimeCommand(
  args: readonly string[],
  open: (file?: AppSchemaFile) => Promise<Database>,
  io: RealtimeCommandIo,
): Promise<number> {
  const [sub, name, ...rest] = args;
  let file: AppSchemaFile | undefined;
  if (sub === 'publish' || sub === 'unpublish') {
    if (name === undefined || name.startsWith('--'))
      throw new RealtimeUsageError(`realtime ${sub}: name the table, like plinth realtime ${sub} messages.`);
    let exclude: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      if (sub === 'publish' && rest[i] === '--exclude' && rest[i + 1] !== undefined) {
        exclude = (rest[++i] as string).split(',').map((column) => column.trim());
      } else {
        throw new RealtimeUsageError(
          `${rest[i]}: not an option here; ${sub === 'publish' ? 'use --exclude col1,col2' : 'unpublish takes none'}.`,
        );
      }
    }
    file = sub === 'publish' ? publishingFile([{ name, exclude }]) : publishingFile([], [name]);
  } else if (sub !== 'list' || name !== undefined) {
    throw new RealtimeUsageError(
      'realtime: use plinth realtime publish TABLE [--exclude col,…], plinth realtime unpublish TABLE, or plinth realtime list.',
    );
  }
  let database: Database;
  try {
    database = await open(file);
  } catch (error) {
    // A directory in use is the CLI's one-line refusal (exit code 2), as for every command.
    if (error instanceof DirectoryInUseError) throw error;
    // The schema file's failure names the table and what is wrong with it.
    io.stderr(`plinth: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  try {
    if (sub === 'publish') io.stdout(`Published ${name}: its inserts, updates and deletes now reach realtime streams.`);
    if (sub === 'unpublish') io.stdout(`Unpublished ${name}: its changes no longer reach realtime streams.`);
    if (sub !== 'list') return 0;
    const tables = await database.query<{ name: string; key: string; excluded: string }>(
      `SELECT table_schema || '.' || table_name AS name, array_to_string(key_columns, ',') AS key,
              array_to_string(excluded_columns, ',') AS excluded
         FROM plinth.realtime_tables ORDER BY 1`,
    );
    if (tables.length === 0) io.stdout('No published tables yet: publish one with plinth realtime publish TABLE.');
    for (const table of tables)
      io.stdout(
        `${table.name.padEnd(40)} key ${table.key.padEnd(20)} ${table.excluded ? `excludes ${table.excluded}` : ''}`.trimEnd(),
      );
    return 0;
  } finally {
    await database.close();
  }
}
