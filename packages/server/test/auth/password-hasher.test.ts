import { type Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { owaspArgon2idParams, parseArgon2Phc } from '../../src/auth/argon2-phc.js';
import {
  type Argon2Backend,
  createPasswordHasher,
  MalformedPasswordHashError,
  nodeRsArgon2,
} from '../../src/auth/password-hasher.js';

const hasher = createPasswordHasher();
const password = 'correct horse battery staple';

/** Wraps the real argon2 and records what each call was given. */
function recordingArgon2() {
  const calls: { kind: 'hash' | 'verify'; phc?: string; password: string }[] = [];
  const backend: Argon2Backend = {
    hash: (input, options) => {
      calls.push({ kind: 'hash', password: input });
      return nodeRsArgon2.hash(input, options);
    },
    verify: (phc, input) => {
      calls.push({ kind: 'verify', phc, password: input });
      return nodeRsArgon2.verify(phc, input);
    },
  };
  return { backend, calls };
}

/** A fake argon2 whose calls finish only when the test says, counting how many run at once. */
function gatedArgon2() {
  const pending: (() => void)[] = [];
  const stats = { inFlight: 0, maxInFlight: 0, started: 0 };
  const gate = <T>(value: T) =>
    new Promise<T>((resolve) => {
      stats.started += 1;
      stats.inFlight += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      pending.push(() => {
        stats.inFlight -= 1;
        resolve(value);
      });
    });
  const backend: Argon2Backend = {
    hash: () => gate('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZGlnZXN0ZGlnZXN0ZGlnZXN0'),
    verify: () => gate(true),
  };
  const releaseOne = () => pending.shift()?.();
  const releaseAll = () => {
    for (const release of pending.splice(0)) release();
  };
  return { backend, stats, releaseOne, releaseAll };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('hash', () => {
  it('makes an argon2id 1.3 PHC string that records the OWASP costs (m=19456, t=2, p=1)', async () => {
    const phc = await hasher.hash(password);
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(parseArgon2Phc(phc)).toEqual({ algorithm: 'argon2id', version: 19, ...owaspArgon2idParams });
  });

  it('salts every hash, so one password hashes differently each time', async () => {
    expect(await hasher.hash(password)).not.toBe(await hasher.hash(password));
  });

  it('records custom costs in the PHC string', async () => {
    const custom = createPasswordHasher({ params: { memoryCost: 8192, timeCost: 3, parallelism: 1 } });
    expect(await custom.hash(password)).toMatch(/^\$argon2id\$v=19\$m=8192,t=3,p=1\$/);
  });

  it.each([
    ['memoryCost', { memoryCost: 0, timeCost: 2, parallelism: 1 }],
    ['timeCost', { memoryCost: 19456, timeCost: 1.5, parallelism: 1 }],
    ['parallelism', { memoryCost: 19456, timeCost: 2, parallelism: -1 }],
  ])('refuses a bad %s', (name, params) => {
    expect(() => createPasswordHasher({ params })).toThrow(name);
  });
});

describe('verify', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const phc = await hasher.hash(password);
    expect(await hasher.verify(phc, password)).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify(phc, 'correct horse battery stapler')).toEqual({ ok: false, needsRehash: false });
    expect(await hasher.verify(phc, '')).toEqual({ ok: false, needsRehash: false });
  });

  it('never truncates: passwords sharing their first 100 bytes do not match each other', async () => {
    const prefix = 'a'.repeat(100);
    const phc = await hasher.hash(`${prefix}1`);
    expect((await hasher.verify(phc, `${prefix}1`)).ok).toBe(true);
    expect((await hasher.verify(phc, `${prefix}2`)).ok).toBe(false);
    expect((await hasher.verify(phc, prefix)).ok).toBe(false);
  });

  it('never truncates multi-byte passwords past 72 bytes either', async () => {
    const prefix = 'ü'.repeat(40); // 80 bytes of UTF-8
    const phc = await hasher.hash(`${prefix}x`);
    expect((await hasher.verify(phc, `${prefix}y`)).ok).toBe(false);
    expect((await hasher.verify(phc, `${prefix}x`)).ok).toBe(true);
  });

  it('matches a password however its accents were composed (NFKC)', async () => {
    const composed = 'café crème brûlée';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const phc = await hasher.hash(composed);
    expect((await hasher.verify(phc, decomposed)).ok).toBe(true);
  });

  it('asks for a rehash of a hash made with other costs, once the password is right', async () => {
    const weak = await argon2Hash(password, { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(await hasher.verify(weak, password)).toEqual({ ok: true, needsRehash: true });
    expect(await hasher.verify(weak, 'wrong password')).toEqual({ ok: false, needsRehash: false });
  });

  it('asks for a rehash of an argon2i hash with the same costs', async () => {
    // Algorithm.Argon2i; the const enum does not exist at run time.
    const argon2i = await argon2Hash(password, { ...owaspArgon2idParams, algorithm: 1 as Algorithm });
    expect(argon2i.startsWith('$argon2i$')).toBe(true);
    expect(await hasher.verify(argon2i, password)).toEqual({ ok: true, needsRehash: true });
  });

  it('asks for a rehash of OWASP hashes once the costs are raised', async () => {
    const phc = await hasher.hash(password);
    const stronger = createPasswordHasher({ params: { memoryCost: 19456, timeCost: 3, parallelism: 1 } });
    expect(await stronger.verify(phc, password)).toEqual({ ok: true, needsRehash: true });
    expect(await stronger.verify(await stronger.hash(password), password)).toEqual({ ok: true, needsRehash: false });
  });

  it('throws MalformedPasswordHashError for a stored value that is not an argon2 PHC string', async () => {
    await expect(
      hasher.verify('$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', password),
    ).rejects.toThrow(MalformedPasswordHashError);
    await expect(hasher.verify('', password)).rejects.toThrow(MalformedPasswordHashError);
  });
});

describe('verifyDummy', () => {
  it('does the same argon2 work as verifying a real account: one verify at the current costs', async () => {
    const { backend, calls } = recordingArgon2();
    const recorded = createPasswordHasher({ argon2: backend });
    const stored = await recorded.hash(password);
    await recorded.verifyDummy(password); // builds the dummy hash on first use
    calls.length = 0;

    await recorded.verify(stored, password);
    const known = calls.splice(0);
    await recorded.verifyDummy(password);
    const unknown = calls.splice(0);

    expect(known.map((call) => call.kind)).toEqual(['verify']);
    expect(unknown.map((call) => call.kind)).toEqual(['verify']);
    expect(unknown[0]?.password).toBe(password);
    expect(parseArgon2Phc(unknown[0]?.phc ?? '')).toEqual(parseArgon2Phc(known[0]?.phc ?? ''));
  });

  it('makes its dummy hash with the hasher’s own costs', async () => {
    const { backend, calls } = recordingArgon2();
    const params = { memoryCost: 8192, timeCost: 3, parallelism: 1 };
    await createPasswordHasher({ argon2: backend, params }).verifyDummy(password);
    const verified = calls.find((call) => call.kind === 'verify');
    expect(parseArgon2Phc(verified?.phc ?? '')).toEqual({ algorithm: 'argon2id', version: 19, ...params });
  });

  it('hashes the dummy once and reuses it', async () => {
    const { backend, calls } = recordingArgon2();
    const recorded = createPasswordHasher({ argon2: backend });
    await Promise.all([recorded.verifyDummy('a'), recorded.verifyDummy('b'), recorded.verifyDummy('c')]);
    await recorded.verifyDummy('d');
    expect(calls.filter((call) => call.kind === 'hash')).toHaveLength(1);
    expect(new Set(calls.filter((call) => call.kind === 'verify').map((call) => call.phc)).size).toBe(1);
  });

  it('tries the dummy hash again after a failure rather than keeping the failure', async () => {
    let failNext = true;
    const flaky: Argon2Backend = {
      hash: (input, options) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('out of memory'));
        }
        return nodeRsArgon2.hash(input, options);
      },
      verify: nodeRsArgon2.verify,
    };
    const recovering = createPasswordHasher({ argon2: flaky });
    await expect(recovering.verifyDummy(password)).rejects.toThrow('out of memory');
    await expect(recovering.verifyDummy(password)).resolves.toBeUndefined();
  });
});

describe('concurrency cap', () => {
  it('runs at most maxConcurrent argon2 calls at once and queues the rest', async () => {
    const fake = gatedArgon2();
    const capped = createPasswordHasher({ argon2: fake.backend, maxConcurrent: 3 });
    const work = Array.from({ length: 10 }, (_, i) => capped.hash(`password-${i}`));

    await flush();
    expect(fake.stats.started).toBe(3);
    fake.releaseOne();
    await flush();
    expect(fake.stats.started).toBe(4);

    while (fake.stats.started < 10 || fake.stats.inFlight > 0) {
      fake.releaseAll();
      await flush();
    }
    await Promise.all(work);
    expect(fake.stats.maxInFlight).toBe(3);
  });

  it('defaults to 4', async () => {
    const fake = gatedArgon2();
    const capped = createPasswordHasher({ argon2: fake.backend });
    const work = Array.from({ length: 10 }, (_, i) => capped.hash(`password-${i}`));
    await flush();
    expect(fake.stats.started).toBe(4);
    while (fake.stats.started < 10 || fake.stats.inFlight > 0) {
      fake.releaseAll();
      await flush();
    }
    await Promise.all(work);
    expect(fake.stats.maxInFlight).toBe(4);
  });

  it('puts hash, verify and verifyDummy under one shared cap', async () => {
    const fake = gatedArgon2();
    const capped = createPasswordHasher({ argon2: fake.backend, maxConcurrent: 2 });
    const phc = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZGlnZXN0ZGlnZXN0ZGlnZXN0';
    const work = [capped.hash('a'), capped.verify(phc, 'b'), capped.verifyDummy('c'), capped.verify(phc, 'd')];
    await flush();
    expect(fake.stats.started).toBe(2);
    while (fake.stats.inFlight > 0) {
      fake.releaseAll();
      await flush();
    }
    await Promise.all(work);
    expect(fake.stats.maxInFlight).toBe(2);
    expect(fake.stats.started).toBe(5); // 4 calls plus the dummy hash
  });

  it('refuses a cap below 1', () => {
    expect(() => createPasswordHasher({ maxConcurrent: 0 })).toThrow(RangeError);
  });
});
