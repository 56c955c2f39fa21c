import { randomBytes } from 'node:crypto';
import {
  type Algorithm,
  hash as argon2Hash,
  verify as argon2Verify,
  type Options,
  type Version,
} from '@node-rs/argon2';
import { type Argon2Params, isOutdatedArgon2Hash, owaspArgon2idParams, parseArgon2Phc } from './argon2-phc.js';
import { createConcurrencyLimit } from './concurrency-limit.js';

// `Algorithm` and `Version` are ambient const enums that the native binding does not export at
// run time, so the members are spelled as their values (Argon2id = 2, V0x13 = 1).
const argon2id = 2 as Algorithm;
const argon2Version13 = 1 as Version;

/** The two argon2 calls the hasher makes; swapped out in tests to observe or stub the work. */
export interface Argon2Backend {
  hash(password: string, options: Options): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
}

/** The real argon2 from `@node-rs/argon2`, which runs off the event loop on the libuv pool. */
export const nodeRsArgon2: Argon2Backend = {
  hash: (password, options) => argon2Hash(password, options),
  verify: (phc, password) => argon2Verify(phc, password),
};

export interface PasswordHasherOptions {
  /** Hashes and verifies allowed in flight at once; the rest queue. Default 4 (≈ 76 MiB at OWASP costs). */
  maxConcurrent?: number;
  /** Costs for new hashes. Default {@link owaspArgon2idParams}. */
  params?: Argon2Params;
  /** Default {@link nodeRsArgon2}. */
  argon2?: Argon2Backend;
}

/** The outcome of checking a password against a stored hash. */
export interface PasswordVerification {
  ok: boolean;
  /** The password was right but the hash is not argon2id with the current costs: store `hash(password)` now. */
  needsRehash: boolean;
}

export interface PasswordHasher {
  /** A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$digest`) that records its own costs. */
  hash(password: string): Promise<string>;
  /** Checks `password` against a stored PHC string. Throws {@link MalformedPasswordHashError} if it is not one. */
  verify(phc: string, password: string): Promise<PasswordVerification>;
  /** Spends the same work as `verify` and learns nothing; for sign-in attempts on unknown accounts. */
  verifyDummy(password: string): Promise<void>;
}

/** A stored password hash is not an argon2 PHC string: the data is corrupt, not the password wrong. */
export class MalformedPasswordHashError extends Error {
  override name = 'MalformedPasswordHashError';
  constructor() {
    // The hash itself stays out of the message so it cannot end up in a log.
    super('The stored password hash is not an argon2 PHC string');
  }
}

/**
 * Creates the argon2id password hasher.
 *
 * Passwords are NFKC-normalised before hashing (NIST SP 800-63B §5.1.1.2), so the same password
 * typed on systems that compose accents differently still matches; they are never truncated.
 * Every hash and verify goes through one concurrency limit, so a burst of sign-ins queues
 * instead of allocating `memoryCost` per request without bound.
 *
 * @example
 * ```ts
 * const hasher = createPasswordHasher();
 * const stored = await hasher.hash('correct horse battery staple');
 *
 * const user = await findUserByEmail(email);
 * if (!user) {
 *   await hasher.verifyDummy(password); // same cost as a real check: no account enumeration by timing
 *   return invalidCredentials();
 * }
 * const { ok, needsRehash } = await hasher.verify(user.passwordHash, password);
 * if (ok && needsRehash) await saveHash(user.id, await hasher.hash(password));
 * ```
 */
export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const { memoryCost, timeCost, parallelism } = options.params ?? owaspArgon2idParams;
  const params: Argon2Params = { memoryCost, timeCost, parallelism };
  for (const [name, value] of Object.entries(params)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`argon2 ${name} must be a positive integer`);
  }
  const argon2 = options.argon2 ?? nodeRsArgon2;
  const limit = createConcurrencyLimit(options.maxConcurrent ?? 4);
  const hashOptions: Options = { algorithm: argon2id, version: argon2Version13, ...params };

  const hash = (password: string) => limit.run(() => argon2.hash(password.normalize('NFKC'), hashOptions));

  // Made on first use rather than at start-up so creating a hasher costs nothing; a random
  // password that nobody knows means no input can ever match it.
  let dummyHash: Promise<string> | undefined;
  const getDummyHash = (): Promise<string> => {
    dummyHash ??= hash(randomBytes(32).toString('base64url')).catch((error: unknown) => {
      dummyHash = undefined;
      throw error;
    });
    return dummyHash;
  };

  return {
    hash,

    async verify(phc, password) {
      const info = parseArgon2Phc(phc);
      if (!info) throw new MalformedPasswordHashError();
      const ok = await limit.run(() => argon2.verify(phc, password.normalize('NFKC')));
      return { ok, needsRehash: ok && isOutdatedArgon2Hash(info, params) };
    },

    async verifyDummy(password) {
      const phc = await getDummyHash();
      await limit.run(() => argon2.verify(phc, password.normalize('NFKC')));
    },
  };
}
