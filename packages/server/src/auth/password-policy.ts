import { commonPasswords } from './common-passwords.js';

/** Fewest code points a password may have (ASVS 5.0 6.2.1). */
export const minPasswordLength = 8;
/** Most code points a password may have; well over ASVS's 64 so passphrases fit, low enough to bound hashing input. */
export const maxPasswordLength = 256;

/** Why a new password was refused. */
export type PasswordRejection = 'too_short' | 'too_long' | 'common';

export type PasswordCheck = { ok: true } | { ok: false; reason: PasswordRejection };

/**
 * Checks a new password (sign-up, change, reset) against the policy: 8 to 256 Unicode code
 * points and not one of the most common passwords. There are deliberately no composition rules
 * (ASVS 5.0 6.2.5) and nothing is ever truncated.
 *
 * Length is counted on the NFKC form, the same form the password hasher stores, so an accent
 * typed as one code point or as two counts the same.
 *
 * @example
 * ```ts
 * checkPassword('correct horse battery staple'); // { ok: true }
 * checkPassword('Password1'); // { ok: false, reason: 'common' }
 * checkPassword('short'); // { ok: false, reason: 'too_short' }
 * ```
 */
export function checkPassword(password: string): PasswordCheck {
  const normalized = password.normalize('NFKC');
  // The string iterator walks code points, so an emoji counts once rather than as two UTF-16 units;
  // counting stops past the limit so a megabyte of input costs no more than 257 steps.
  let length = 0;
  for (const _ of normalized) {
    length += 1;
    if (length > maxPasswordLength) break;
  }
  if (length < minPasswordLength) return { ok: false, reason: 'too_short' };
  if (length > maxPasswordLength) return { ok: false, reason: 'too_long' };
  if (commonPasswords.has(normalized.toLowerCase())) return { ok: false, reason: 'common' };
  return { ok: true };
}
