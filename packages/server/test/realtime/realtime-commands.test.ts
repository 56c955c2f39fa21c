import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openDatabase } from '../../src/database/open-database.js';
import { useCliIo } from '../fixtures/cli-io.js';

// `plinth realtime publish|unpublish|list` on the database the CLI resolves (PGlite under the
// working directory here): publishing adds the trigger as the tables' owner, and what is wrong
// with a table is said in one line.

describe('plinth realtime publish|unpublish|list', () => {
  const io = useCliIo('plinth-realtime-');

  it('publishes a table with excluded columns, lists it, refuses what cannot be published, and unpublishes', async () => {
    const { cli, out, err, cwd } = io();
    // The app's tables, as its schema directory would make them.
    const made = await openDatabase(join(cwd, '.plinth', 'data'), {
      appSchema: [
        {
          name: '001.sql',
          sql: `CREATE TABLE IF NOT EXISTS messages (id serial PRIMARY KEY, body text, secret text);
                CREATE TABLE IF NOT EXISTS keyless (body text);`,
        },
      ],
    });
    await made.close();

    expect(await runCli(['realtime', 'list'], cli)).toBe(0);
    expect(out).toEqual(['No published tables yet: publish one with plinth realtime publish TABLE.']);
    out.length = 0;
    expect(await runCli(['realtime', 'publish', 'messages', '--exclude', 'secret'], cli)).toBe(0);
    expect(out).toEqual(['Published messages: its inserts, updates and deletes now reach realtime streams.']);
    out.length = 0;
    expect(await runCli(['realtime', 'list'], cli)).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^public\.messages\s+key id\s+excludes secret$/);

    expect(await runCli(['realtime', 'publish', 'keyless'], cli)).toBe(1);
    expect(err.at(-1)).toMatch(/cannot publish keyless: it has no primary key/);
    expect(await runCli(['realtime', 'publish', 'missing'], cli)).toBe(1);
    expect(err.at(-1)).toMatch(/cannot publish missing: no such table/);
    expect(await runCli(['realtime', 'publish', 'messages', '--exclude', 'nope'], cli)).toBe(1);
    expect(err.at(-1)).toMatch(/it has no column nope/);
    expect(await runCli(['realtime', 'publish', 'messages', '--exclude', 'id'], cli)).toBe(1);
    expect(err.at(-1)).toMatch(/without its primary key columns \(id\)/);

    out.length = 0;
    expect(await runCli(['realtime', 'unpublish', 'messages'], cli)).toBe(0);
    expect(await runCli(['realtime', 'list'], cli)).toBe(0);
    expect(out.at(-1)).toBe('No published tables yet: publish one with plinth realtime publish TABLE.');
    // The trigger went with it.
    const database = await openDatabase(join(cwd, '.plinth', 'data'));
    try {
      const triggers = await database.query(
        "SELECT 1 FROM pg_trigger WHERE tgname = 'plinth_realtime' AND tgrelid = 'public.messages'::regclass",
      );
      expect(triggers).toHaveLength(0);
    } finally {
      await database.close();
    }
    // Each command opens the embedded database from disk, which takes seconds on a loaded machine.
  }, 240_000);

  it.each([
    [['realtime'], /^plinth: realtime: use plinth realtime publish TABLE/],
    [['realtime', 'publish'], /^plinth: realtime publish: name the table/],
    [['realtime', 'publish', '--exclude', 'a'], /^plinth: realtime publish: name the table/],
    [['realtime', 'publish', 'bad-name!'], /^plinth: "bad-name!" is not a table name/],
    [['realtime', 'publish', 'messages', '--exclude'], /^plinth: --exclude: not an option here/],
    [['realtime', 'publish', 'messages', '--exclude', 'a;drop'], /^plinth: --exclude: "a;drop" is not a column name/],
    [
      ['realtime', 'unpublish', 'messages', '--exclude', 'a'],
      /^plinth: --exclude: not an option here; unpublish takes none/,
    ],
    [['realtime', 'list', 'extra'], /^plinth: realtime: use plinth realtime publish TABLE/],
  ])('refuses %j with exit code 2 and one line', async (args, message) => {
    const { cli, err } = io();
    expect(await runCli(args, cli)).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });
});
