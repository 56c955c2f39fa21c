import { HttpError } from '../http/http-error.js';

/**
 * The link an email carries back to the app: `redirectTo` (which must be on one of the app
 * origins, so a link can never send a token elsewhere) or the first app origin, with the token
 * and its type in the query.
 *
 * @example
 * ```ts
 * emailLink('https://app.example.com/welcome', appOrigins, 'verify_email', token);
 * // 'https://app.example.com/welcome?type=verify_email&token=ot_…'
 * ```
 */
export function emailLink(
  redirectTo: string | undefined,
  appOrigins: readonly string[],
  type: string,
  token: string,
): string {
  const base = redirectTo ?? appOrigins[0];
  if (base === undefined) {
    throw new HttpError(
      'validation_failed',
      'redirectTo: required, since the server has no app origin configured (PLINTH_CORS_ORIGINS).',
      {
        field: 'redirectTo',
      },
    );
  }
  const url = new URL(base);
  if (!appOrigins.includes(url.origin)) {
    throw new HttpError(
      'validation_failed',
      `redirectTo: ${url.origin} is not one of the app origins this server allows.`,
      {
        field: 'redirectTo',
      },
    );
  }
  url.searchParams.set('type', type);
  url.searchParams.set('token', token);
  return url.href;
}
