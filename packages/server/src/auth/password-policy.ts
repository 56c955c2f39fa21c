import { commonPasswords } from './common-passwords.js';

/** Fewest code points a password may have (ASVS 5.0 6.2.1). */
export const minPasswordLength = 8;
/** Most code points a password may have; well over ASVS's 64 so passphrases fit, low enough to bound hashing input. */
export const maxPasswordLength = 256;

/** Why a new password was refused. */
export type PasswordRejection = 'control_character' | 'too_short' | 'too_long' | 'blank' | 'matches_email' | 'common';

export type PasswordCheck = { ok: true } | { ok: false; reason: PasswordRejection };

// Unicode's Cc category: C0 (U+0000–U+001F, NUL, tab and line breaks among them), DEL and C1
// (U+0080–U+009F). None can be typed into a password field; they arrive from scripts and
// copy-paste accidents, and some stores and logs cut a string at NUL.
const controlCharacter = /\p{Cc}/u;
const whitespaceOnly = /^\s+$/u;

/**
 * Checks a new password (sign-up, change, reset) against the policy: 8 to 256 Unicode code
 * points, no control characters, not whitespace only, not the account's `email` or the part of it
 * before the `@` (case-insensitively; checked only when `email` is given), and not one of the
 * most common passwords. There are deliberately no composition rules (ASVS 5.0 6.2.5) and nothing
 * is ever truncated.
 *
 * Length and comparisons use the NFKC form, the same form the password hasher stores, so an
 * accent typed as one code point or as two counts the same, and a full-width copy of the email
 * is still the email.
 *
 * @example
 * ```ts
 * checkPassword('correct horse battery staple', 'ada@example.com'); // { ok: true }
 * checkPassword('Password1'); // { ok: false, reason: 'common' }
 * checkPassword('short'); // { ok: false, reason: 'too_short' }
 * checkPassword('Ada@Example.com', 'ada@example.com'); // { ok: false, reason: 'matches_email' }
 * checkPassword('pass\u0000word'); // { ok: false, reason: 'control_character' }
 * ```
 */
export function checkPassword(password: string, email?: string): PasswordCheck {
  // First, so whitespace made of tabs and line breaks is named for what it is.
  if (controlCharacter.test(password)) return { ok: false, reason: 'control_character' };
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
  if (whitespaceOnly.test(normalized)) return { ok: false, reason: 'blank' };
  const lower = normalized.toLowerCase();
  if (email !== undefined) {
    const address = email.normalize('NFKC').trim().toLowerCase();
    const at = address.lastIndexOf('@');
    if (lower === address || (at > 0 && lower === address.slice(0, at))) {
      return { ok: false, reason: 'matches_email' };
    }
  }
  if (commonPasswords.has(lower)) return { ok: false, reason: 'common' };
  return { ok: true };
}
