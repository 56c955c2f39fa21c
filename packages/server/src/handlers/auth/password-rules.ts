import { checkPassword } from '../../auth/password-policy.js';
import { HttpError } from '../../http/http-error.js';

const why = {
  too_short: 'must be at least 8 characters',
  too_long: 'must be at most 256 characters',
  common: 'is one of the most common passwords; choose another',
};

/**
 * Throws a 400 naming `field` when a new password breaks the policy (length 8..256, not a common
 * password; no composition rules).
 *
 * @example
 * ```ts
 * assertAcceptablePassword(input.newPassword, 'newPassword');
 * ```
 */
export function assertAcceptablePassword(password: string, field: string): void {
  const check = checkPassword(password);
  if (!check.ok) throw new HttpError('validation_failed', `${field}: ${why[check.reason]}`, { field });
}
