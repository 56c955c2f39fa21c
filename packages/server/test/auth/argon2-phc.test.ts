import { describe, expect, it } from 'vitest';
import { isOutdatedArgon2Hash, owaspArgon2idParams, parseArgon2Phc } from '../../src/auth/argon2-phc.js';

const salt = 'c29tZXNhbHRzb21lc2FsdA';
const digest = 'ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGk';

describe('parseArgon2Phc', () => {
  it('reads the algorithm, version and costs', () => {
    expect(parseArgon2Phc(`$argon2id$v=19$m=19456,t=2,p=1$${salt}$${digest}`)).toEqual({
      algorithm: 'argon2id',
      version: 19,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
    });
    expect(parseArgon2Phc(`$argon2i$v=19$m=65536,t=3,p=4$${salt}$${digest}`)).toMatchObject({
      algorithm: 'argon2i',
      memoryCost: 65536,
      timeCost: 3,
      parallelism: 4,
    });
  });

  it('takes a missing version to mean argon2 1.0 (16)', () => {
    expect(parseArgon2Phc(`$argon2d$m=4096,t=3,p=1$${salt}$${digest}`)).toMatchObject({
      algorithm: 'argon2d',
      version: 16,
    });
  });

  it('tolerates extra parameters after p', () => {
    expect(parseArgon2Phc(`$argon2id$v=19$m=19456,t=2,p=1,keyid=abc$${salt}$${digest}`)).toMatchObject({
      memoryCost: 19456,
    });
  });

  it.each([
    ['empty', ''],
    ['bcrypt', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW'],
    ['scrypt', `$scrypt$ln=16,r=8,p=1$${salt}$${digest}`],
    ['no digest', `$argon2id$v=19$m=19456,t=2,p=1$${salt}`],
    ['costs out of order', `$argon2id$v=19$t=2,m=19456,p=1$${salt}$${digest}`],
    ['trailing text', `$argon2id$v=19$m=19456,t=2,p=1$${salt}$${digest}$more`],
    ['plain text', 'hunter2'],
  ])('returns undefined for %s', (_label, phc) => {
    expect(parseArgon2Phc(phc)).toBeUndefined();
  });
});

describe('isOutdatedArgon2Hash', () => {
  const current = { algorithm: 'argon2id', version: 19, ...owaspArgon2idParams } as const;

  it('is false only for argon2id 1.3 with exactly the current costs', () => {
    expect(isOutdatedArgon2Hash(current, owaspArgon2idParams)).toBe(false);
  });

  it.each([
    ['argon2i', { algorithm: 'argon2i' as const }],
    ['argon2d', { algorithm: 'argon2d' as const }],
    ['version 1.0', { version: 16 }],
    ['less memory', { memoryCost: 4096 }],
    ['more memory', { memoryCost: 65536 }],
    ['fewer passes', { timeCost: 1 }],
    ['more lanes', { parallelism: 2 }],
  ])('is true for %s', (_label, change) => {
    expect(isOutdatedArgon2Hash({ ...current, ...change }, owaspArgon2idParams)).toBe(true);
  });
});

describe('owaspArgon2idParams', () => {
  it('is the OWASP argon2id setting: 19 MiB, 2 passes, 1 lane', () => {
    expect(owaspArgon2idParams).toEqual({ memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 });
    expect(Object.isFrozen(owaspArgon2idParams)).toBe(true);
  });
});
