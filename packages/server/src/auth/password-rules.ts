import { HttpError } from '../http/http-error.js';
import { checkPassword, type PasswordRejection } from './password-policy.js';

const why: Record<PasswordRejection, string> = {
  control_character:
    'must not contain control characters (such as NUL, tab or a line break); use letters, digits, symbols and spaces',
  too_short: 'must be at least 8 characters',
  too_long: 'must be at most 256 characters',
  blank: 'must not be whitespace only; use letters, digits or symbols too',
  matches_email: 'must not be your email address or the part before the @, which anyone can guess; choose another',
  common: 'is one of the most common passwords; choose another',
};

/**
 * Throws a 400 naming `field` when a new password breaks the policy (length 8..256, no control
 * characters, not whitespace only, not the account's `email` or its local part, not a common
 * password; no composition rules). Pass `email` wherever the account is known.
 *
 * @example
 * ```ts
 * assertAcceptablePassword(input.newPassword, 'newPassword', account.email);
 * ```
 */
export function assertAcceptablePassword(password: string, field: string, email?: string): void {
  const check = checkPassword(password, email);
  if (!check.ok) throw new HttpError('validation_failed', `${field}: ${why[check.reason]}`, { field });
}
