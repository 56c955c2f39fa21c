import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openDatabase } from '../../src/database/open-database.js';
import { listBuckets } from '../../src/storage/bucket-store.js';
import { useCliIo } from '../fixtures/cli-io.js';

// `plinth buckets create|list` on the database the CLI resolves (PGlite under the working
// directory here), with every usage mistake a one-line message and exit code 2.

describe('plinth buckets create|list', () => {
  const io = useCliIo('plinth-buckets-');

  it('makes buckets and lists them, and refuses a second bucket of the same name', async () => {
    const { cli, out, err, cwd } = io();
    expect(await runCli(['buckets', 'list'], cli)).toBe(0);
    expect(out).toEqual(['No buckets yet: make one with plinth buckets create NAME.']);
    out.length = 0;
    expect(
      await runCli(
        ['buckets', 'create', 'avatars', '--public', '--types', 'image/png,image/jpeg', '--max-bytes', '20MiB'],
        cli,
      ),
    ).toBe(0);
    expect(await runCli(['buckets', 'create', 'reports'], cli)).toBe(0);
    expect(out[0]).toBe('Bucket avatars made: public, image/png,image/jpeg, up to 20971520 bytes per object.');
    expect(out[1]).toBe('Bucket reports made: private, any type, up to 52428800 bytes per object.');
    out.length = 0;
    expect(await runCli(['buckets', 'list'], cli)).toBe(0);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^avatars\s+public\s+20971520 {2}image\/png,image\/jpeg$/);
    expect(out[1]).toMatch(/^reports\s+private\s+52428800 {2}\(any type\)$/);
    expect(await runCli(['buckets', 'create', 'avatars'], cli)).toBe(1);
    expect(err).toEqual(['plinth: A bucket named avatars already exists.']);
    // What the CLI made is what the server sees.
    const database = await openDatabase(join(cwd, '.plinth', 'data'));
    try {
      expect((await listBuckets(database)).map((bucket) => bucket.name)).toEqual(['avatars', 'reports']);
    } finally {
      await database.close();
    }
    // Each command opens the embedded database from disk, which takes seconds on a loaded machine.
  }, 180_000);

  it.each([
    [['buckets'], /^plinth: buckets: use plinth buckets create NAME/],
    [['buckets', 'create'], /^plinth: buckets create: name the bucket first/],
    [['buckets', 'create', '--public'], /^plinth: buckets create: name the bucket first/],
    [['buckets', 'create', 'Bad_Name'], /^plinth: buckets create: "Bad_Name" is not a bucket name/],
    [
      ['buckets', 'create', 'ok-name', '--types', 'image/png,<script>'],
      /^plinth: --types: "<script>" is not a content type/,
    ],
    [['buckets', 'create', 'ok-name', '--types'], /^plinth: --types: needs a value\.$/],
    [['buckets', 'create', 'ok-name', '--max-bytes', '0'], /^plinth: --max-bytes: must be a size from 1 byte to 5 TiB/],
    [['buckets', 'create', 'ok-name', '--max-bytes', '6TiB'], /^plinth: --max-bytes: must be a size/],
    [['buckets', 'create', 'ok-name', '--max-bytes', 'lots'], /^plinth: --max-bytes: must be a size/],
    [['buckets', 'create', 'ok-name', '--owner', 'x'], /^plinth: --owner: not an option here/],
    [['buckets', 'list', '--all'], /^plinth: buckets list: takes no options/],
  ])('%j → exit 2 with one line', async (args, message) => {
    const { cli, err, out } = io();
    expect(await runCli(args, cli)).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(out).toEqual([]);
  });
});
