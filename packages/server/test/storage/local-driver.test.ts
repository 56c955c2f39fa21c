import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDriver } from '../../src/storage/local-driver.js';
import { type LocalStorageDriver, ObjectTooLargeError } from '../../src/storage/storage-driver.js';

let sandbox: string;
let root: string;
let driver: LocalStorageDriver;

beforeEach(async () => {
  // The root sits one level down, so a key that escaped it would land in the sandbox, where the
  // escape tests can see it.
  sandbox = await mkdtemp(join(tmpdir(), 'plinth-local-driver-'));
  root = join(sandbox, 'root');
  driver = createLocalDriver({ root });
});

afterEach(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `bytes` as an upload body, in chunks of `chunkSize`. */
async function* chunked(bytes: Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    yield bytes.subarray(offset, offset + chunkSize);
  }
}

async function collect(stream: AsyncIterable<Uint8Array> | undefined): Promise<Buffer> {
  if (stream === undefined) throw new Error('expected an object, found none');
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

async function store(key: string, bytes: Uint8Array): Promise<void> {
  const staged = await driver.stage(chunked(bytes, 4096), { maxBytes: bytes.byteLength });
  await staged.commit(key);
}

const stagingFiles = async () => readdir(join(root, 'staging')).catch(() => []);
const objectsPath = (...segments: string[]) => join(root, 'objects', ...segments);

describe('stage and commit', () => {
  it('stores the bytes whole, with the size, SHA-256 and head computed on the way', async () => {
    const bytes = randomBytes(300_000);
    // Uneven chunks, so the 512-byte head spans several of them.
    async function* uneven() {
      let offset = 0;
      for (const size of [1, 7, 300, 1000, 65_536]) {
        yield bytes.subarray(offset, offset + size);
        offset += size;
      }
      yield* chunked(bytes.subarray(offset), 40_000);
    }
    const staged = await driver.stage(uneven(), { maxBytes: 1_000_000 });
    expect(staged.size).toBe(bytes.byteLength);
    expect(staged.sha256).toBe(sha256(bytes));
    expect(Buffer.from(staged.head)).toEqual(bytes.subarray(0, 512));

    await staged.commit('avatars/users/ada.bin');
    expect(await readFile(objectsPath('avatars', 'users', 'ada.bin'))).toEqual(bytes);
    expect(await collect(await driver.read('avatars/users/ada.bin'))).toEqual(bytes);
    expect(await stagingFiles()).toEqual([]);
  });

  it('keeps its own copy of the head, whatever the producer does with its buffer afterwards', async () => {
    const reused = Buffer.from('first bytes of the upload');
    const staged = await driver.stage(
      (async function* () {
        yield reused;
      })(),
      { maxBytes: 100 },
    );
    reused.fill(0);
    expect(Buffer.from(staged.head).toString()).toBe('first bytes of the upload');
    await staged.discard();
  });

  it('stores an empty body as an empty object', async () => {
    const staged = await driver.stage(chunked(new Uint8Array(), 1), { maxBytes: 0 });
    expect(staged.size).toBe(0);
    expect(staged.sha256).toBe(sha256(new Uint8Array()));
    expect(staged.head).toHaveLength(0);
    await staged.commit('b/empty');
    expect(await collect(await driver.read('b/empty'))).toHaveLength(0);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const staged = await driver.stage(chunked(randomBytes(10_240), 1024), { maxBytes: 10_240 });
    expect(staged.size).toBe(10_240);
    await staged.discard();
  });

  it('replaces an existing object on commit', async () => {
    await store('b/k', Buffer.from('old'));
    await store('b/k', Buffer.from('new'));
    expect((await collect(await driver.read('b/k'))).toString()).toBe('new');
  });

  it('stops reading as soon as the body passes maxBytes and keeps nothing', async () => {
    let pulled = 0;
    let closed = false;
    async function* endless() {
      try {
        for (;;) {
          pulled += 1;
          yield new Uint8Array(1024);
        }
      } finally {
        closed = true;
      }
    }
    const attempt = driver.stage(endless(), { maxBytes: 10 * 1024 });
    await expect(attempt).rejects.toBeInstanceOf(ObjectTooLargeError);
    await expect(attempt).rejects.toMatchObject({ maxBytes: 10 * 1024 });
    // Ten chunks fit exactly; the eleventh is the one over the limit, and no more are asked for.
    expect(pulled).toBe(11);
    expect(closed).toBe(true);
    expect(await stagingFiles()).toEqual([]);
  });

  it('keeps nothing and passes the error on when the body fails midway', async () => {
    const cut = new Error('socket hang up');
    async function* cutOff() {
      yield randomBytes(4096);
      yield randomBytes(4096);
      throw cut;
    }
    await expect(driver.stage(cutOff(), { maxBytes: 1_000_000 })).rejects.toBe(cut);
    expect(await stagingFiles()).toEqual([]);
    expect(existsSync(objectsPath())).toBe(false);
  });

  it('refuses a body that yields something other than bytes, keeping nothing', async () => {
    async function* strings() {
      yield 'not bytes' as unknown as Uint8Array;
    }
    await expect(driver.stage(strings(), { maxBytes: 100 })).rejects.toThrow(/must yield bytes/);
    expect(await stagingFiles()).toEqual([]);
  });

  it('refuses a negative or NaN maxBytes before reading anything', async () => {
    let pulled = false;
    async function* body() {
      pulled = true;
      yield new Uint8Array(1);
    }
    await expect(driver.stage(body(), { maxBytes: -1 })).rejects.toThrow(RangeError);
    await expect(driver.stage(body(), { maxBytes: Number.NaN })).rejects.toThrow(RangeError);
    expect(pulled).toBe(false);
  });

  it('ends 20 concurrent uploads to one key with exactly one of them, whole, and readers never see a torn one', async () => {
    const bodies = Array.from({ length: 20 }, () => randomBytes(200_000));
    const hashes = new Set(bodies.map(sha256));
    await store('b/contended', bodies[0] as Uint8Array);

    let writing = true;
    const seen: string[] = [];
    const reader = (async () => {
      while (writing) seen.push(sha256(await collect(await driver.read('b/contended'))));
    })();
    await Promise.all(
      bodies.map(async (body) => {
        // Small chunks so the twenty writes interleave.
        const staged = await driver.stage(chunked(body, 8192), { maxBytes: body.byteLength });
        await staged.commit('b/contended');
      }),
    );
    writing = false;
    await reader;

    const final = await collect(await driver.read('b/contended'));
    expect(final).toHaveLength(200_000);
    expect(hashes.has(sha256(final))).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    for (const hash of seen) expect(hashes.has(hash)).toBe(true);
    expect(await stagingFiles()).toEqual([]);
  });

  it('survives a concurrent remove emptying the folder the commit is about to use', async () => {
    // Each round removes the only other object in b/shared/ (so remove() deletes the folder)
    // while a commit into that same folder runs: the commit must always land.
    for (let round = 0; round < 25; round += 1) {
      await store('b/shared/other', Buffer.from('other'));
      const staged = await driver.stage(chunked(Buffer.from(`round ${round}`), 4), { maxBytes: 100 });
      await Promise.all([staged.commit(`b/shared/${round}`), driver.remove('b/shared/other')]);
      expect((await collect(await driver.read(`b/shared/${round}`))).toString()).toBe(`round ${round}`);
      await driver.remove(`b/shared/${round}`);
    }
  });

  it('makes discard idempotent, harmless after commit, and final', async () => {
    const staged = await driver.stage(chunked(Buffer.from('kept'), 2), { maxBytes: 10 });
    await staged.commit('b/kept');
    await staged.discard();
    await staged.discard();
    expect((await collect(await driver.read('b/kept'))).toString()).toBe('kept');
    await expect(staged.commit('b/again')).rejects.toThrow(/already committed/);

    const dropped = await driver.stage(chunked(Buffer.from('dropped'), 2), { maxBytes: 10 });
    await dropped.discard();
    await dropped.discard();
    expect(await stagingFiles()).toEqual([]);
    await expect(dropped.commit('b/dropped')).rejects.toThrow(/discarded/);
    expect(await driver.read('b/dropped')).toBeUndefined();
  });

  it('explains a key that collides with another as object and folder, and the upload can still be discarded', async () => {
    await store('b/a', Buffer.from('file'));
    const under = await driver.stage(chunked(Buffer.from('x'), 1), { maxBytes: 10 });
    await expect(under.commit('b/a/c')).rejects.toThrow(/a shorter key .* is already an object/);
    await under.discard();

    await store('b/dir/child', Buffer.from('child'));
    const over = await driver.stage(chunked(Buffer.from('y'), 1), { maxBytes: 10 });
    await expect(over.commit('b/dir')).rejects.toThrow(/other objects are stored under it/);
    await over.discard();

    expect(await stagingFiles()).toEqual([]);
    expect((await collect(await driver.read('b/a'))).toString()).toBe('file');
    expect((await collect(await driver.read('b/dir/child'))).toString()).toBe('child');
  });

  it('streams a 64 MiB body without holding it in memory', async () => {
    // Exposing gc at run time lets the test measure live memory rather than garbage not yet
    // collected, so the bound can be tight without being flaky.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const liveBytes = () => {
      gc();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    const chunkSize = 64 * 1024;
    const chunks = 1024;
    const baseline = liveBytes();
    let peakGrowth = 0;
    const expected = createHash('sha256');
    async function* large() {
      for (let index = 0; index < chunks; index += 1) {
        // A fresh buffer each time, as a socket gives: a driver that kept them would show it.
        const chunk = Buffer.alloc(chunkSize, index % 251);
        expected.update(chunk);
        yield chunk;
        // Measured mid-stream, since a driver that buffered and then let go would look fine at the end.
        if (index % 128 === 127) peakGrowth = Math.max(peakGrowth, liveBytes() - baseline);
      }
    }
    const staged = await driver.stage(large(), { maxBytes: chunkSize * chunks });
    expect(staged.size).toBe(64 * 1024 * 1024);
    expect(staged.sha256).toBe(expected.digest('hex'));
    expect(peakGrowth).toBeLessThan(32 * 1024 * 1024);
    await staged.discard();
  });
});

describe('read', () => {
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, index) => index % 256));

  beforeEach(async () => {
    await store('b/ranged', bytes);
  });

  it('reads the whole object, or an inclusive byte range of it', async () => {
    expect(await collect(await driver.read('b/ranged'))).toEqual(bytes);
    expect(await collect(await driver.read('b/ranged', { start: 10, end: 19 }))).toEqual(bytes.subarray(10, 20));
    expect(await collect(await driver.read('b/ranged', { start: 999, end: 999 }))).toEqual(bytes.subarray(999));
    expect(await collect(await driver.read('b/ranged', { start: 0, end: 0 }))).toEqual(bytes.subarray(0, 1));
  });

  it('stops a range at the end of the object', async () => {
    expect(await collect(await driver.read('b/ranged', { start: 990, end: 5000 }))).toEqual(bytes.subarray(990));
    expect(await collect(await driver.read('b/ranged', { start: 2000, end: 3000 }))).toHaveLength(0);
  });

  it('refuses a range that is not whole numbers with 0 ≤ start ≤ end', async () => {
    for (const range of [
      { start: 20, end: 10 },
      { start: -1, end: 10 },
      { start: 0.5, end: 10 },
      { start: 0, end: Number.NaN },
    ]) {
      await expect(driver.read('b/ranged', range)).rejects.toThrow(RangeError);
    }
  });

  it('answers undefined for a missing key, a folder of objects, and a key below an object', async () => {
    await store('b/folder/inside', Buffer.from('x'));
    expect(await driver.read('b/missing')).toBeUndefined();
    expect(await driver.read('nobucket/missing')).toBeUndefined();
    expect(await driver.read('b/folder')).toBeUndefined();
    expect(await driver.read('b/ranged/below')).toBeUndefined();
  });

  it('keeps serving the bytes it opened when a commit replaces the object mid-read', async () => {
    const stream = await driver.read('b/ranged');
    await store('b/ranged', Buffer.from('replacement'));
    expect(await collect(stream)).toEqual(bytes);
    expect((await collect(await driver.read('b/ranged'))).toString()).toBe('replacement');
  });
});

describe('remove', () => {
  it('removes the object and every folder it leaves empty, up to objects/', async () => {
    await store('b/x/y/z', Buffer.from('deep'));
    await store('b/x/other', Buffer.from('sibling'));

    await driver.remove('b/x/y/z');
    expect(await driver.read('b/x/y/z')).toBeUndefined();
    expect(existsSync(objectsPath('b', 'x', 'y'))).toBe(false);
    expect(existsSync(objectsPath('b', 'x', 'other'))).toBe(true);

    await driver.remove('b/x/other');
    expect(existsSync(objectsPath('b'))).toBe(false);
    expect(existsSync(objectsPath())).toBe(true);
  });

  it('is quiet when the object is already gone, or was never there', async () => {
    await store('b/once', Buffer.from('x'));
    await driver.remove('b/once');
    await driver.remove('b/once');
    await driver.remove('nobucket/never');
    await driver.remove('b/once/below');
  });

  it('leaves a folder of other objects alone when asked to remove it as a key', async () => {
    await store('b/folder/inside', Buffer.from('x'));
    await driver.remove('b/folder');
    expect((await collect(await driver.read('b/folder/inside'))).toString()).toBe('x');
  });

  it('ends concurrent removes in one folder with the folder gone and no error', async () => {
    const keys = Array.from({ length: 20 }, (_, index) => `b/many/${index}`);
    for (const key of keys) await store(key, Buffer.from(key));
    await Promise.all(keys.map((key) => driver.remove(key)));
    expect(existsSync(objectsPath('b'))).toBe(false);
  });
});

describe('keys that could leave the storage root', () => {
  const unsafeKeys = ['../x', 'a/../../x', '/abs', 'a//b', 'a\0b', '', 'a/', '.', 'a/./b', 'a/..', 'a\\..\\..\\x'];

  it.each(unsafeKeys)('refuses %j on commit, read and remove, writing nothing', async (key) => {
    const staged = await driver.stage(chunked(Buffer.from('payload'), 3), { maxBytes: 100 });
    await expect(staged.commit(key)).rejects.toThrow(/storage key .* is refused/);
    await expect(driver.read(key)).rejects.toThrow(/is refused/);
    await expect(driver.remove(key)).rejects.toThrow(/is refused/);
    // Still staged and usable: the refusal happened before anything moved.
    await staged.commit('b/safe');
    expect(await readdir(sandbox)).toEqual(['root']);
    expect(await readdir(root).then((entries) => entries.sort())).toEqual(['objects', 'staging']);
    expect(await readdir(objectsPath())).toEqual(['b']);
    expect(await readdir(objectsPath('b'))).toEqual(['safe']);
  });
});

describe('sweepStaging', () => {
  it('removes staged files older than the given age and leaves newer ones committable', async () => {
    const stale = await driver.stage(chunked(Buffer.from('stale'), 5), { maxBytes: 10 });
    const [stalePath] = await stagingFiles();
    const fresh = await driver.stage(chunked(Buffer.from('fresh'), 5), { maxBytes: 10 });
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(join(root, 'staging', stalePath as string), twoHoursAgo, twoHoursAgo);
    // Something an operator left in the folder that the driver did not write.
    await writeFile(join(root, 'staging', 'README'), 'not ours');
    await utimes(join(root, 'staging', 'README'), twoHoursAgo, twoHoursAgo);

    expect(await driver.sweepStaging(60 * 60 * 1000)).toBe(1);
    expect((await stagingFiles()).sort()).toHaveLength(2);

    await expect(stale.commit('b/stale')).rejects.toThrow(/staged upload is gone/);
    await fresh.commit('b/fresh');
    expect((await collect(await driver.read('b/fresh'))).toString()).toBe('fresh');
    expect(await driver.sweepStaging(60 * 60 * 1000)).toBe(0);
  });

  it('finds nothing to sweep before anything was ever staged', async () => {
    expect(await driver.sweepStaging(0)).toBe(0);
  });

  it('refuses a negative age rather than sweeping uploads still in flight', async () => {
    await mkdir(join(root, 'staging'), { recursive: true });
    await expect(driver.sweepStaging(-1)).rejects.toThrow(RangeError);
  });
});
