/** The argon2 cost parameters that a PHC string records and that decide whether a hash is current. */
export interface Argon2Params {
  /** Memory per call in KiB (`m=`). */
  memoryCost: number;
  /** Passes over the memory (`t=`). */
  timeCost: number;
  /** Lanes (`p=`). */
  parallelism: number;
}

/** Everything a stored argon2 PHC string says about how it was made, minus the salt and digest. */
export interface Argon2PhcInfo extends Argon2Params {
  algorithm: 'argon2id' | 'argon2i' | 'argon2d';
  /** 19 for argon2 1.3 (0x13), 16 for 1.0, which PHC strings mark by leaving `v=` out. */
  version: number;
}

/**
 * OWASP Password Storage Cheat Sheet, first argon2id option: 19 MiB, 2 passes, 1 lane.
 * Changing these makes `verify` report `needsRehash` for every older hash.
 */
export const owaspArgon2idParams: Readonly<Argon2Params> = Object.freeze({
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

/** The argon2 version every new hash is made with (1.3). */
export const currentArgon2Version = 19;

// Extra parameters (`keyid=`, `data=`) may follow `p=`; salt and digest are unpadded standard base64.
const phcPattern =
  /^\$(argon2id|argon2i|argon2d)\$(?:v=(\d{1,3})\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})(?:,[^$]*)?\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/**
 * Reads the algorithm, version and costs out of an argon2 PHC string, or `undefined` when the
 * string is not one.
 *
 * @example
 * ```ts
 * parseArgon2Phc('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$ZGlnZXN0');
 * // { algorithm: 'argon2id', version: 19, memoryCost: 19456, timeCost: 2, parallelism: 1 }
 * ```
 */
export function parseArgon2Phc(phc: string): Argon2PhcInfo | undefined {
  const match = phcPattern.exec(phc);
  if (!match) return undefined;
  const [, algorithm, version, memoryCost, timeCost, parallelism] = match;
  return {
    algorithm: algorithm as Argon2PhcInfo['algorithm'],
    version: version === undefined ? 16 : Number(version),
    memoryCost: Number(memoryCost),
    timeCost: Number(timeCost),
    parallelism: Number(parallelism),
  };
}

/**
 * Whether a stored hash was made with anything other than argon2id 1.3 and exactly `params` —
 * weaker or stronger, either way the next successful sign-in should store a fresh hash.
 *
 * @example
 * ```ts
 * const info = parseArgon2Phc(stored);
 * if (info && isOutdatedArgon2Hash(info, owaspArgon2idParams)) { ... }
 * ```
 */
export function isOutdatedArgon2Hash(info: Argon2PhcInfo, params: Argon2Params): boolean {
  return (
    info.algorithm !== 'argon2id' ||
    info.version !== currentArgon2Version ||
    info.memoryCost !== params.memoryCost ||
    info.timeCost !== params.timeCost ||
    info.parallelism !== params.parallelism
  );
}
