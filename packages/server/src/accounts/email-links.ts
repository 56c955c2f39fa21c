import { HttpError } from '../http/http-error.js';

/**
 * Where an email link leads: `redirectTo`, which must be on one of the app origins (so a link
 * can never carry a token elsewhere), or the first app origin. Checked before anything else a
 * route does, so a bad `redirectTo` is refused alike whether or not the account exists.
 *
 * @example
 * ```ts
 * const base = emailLinkBase(input.redirectTo, auth.appOrigins); // throws a 400 naming redirectTo
 * ```
 */
export function emailLinkBase(redirectTo: string | undefined, appOrigins: readonly string[]): URL {
  const base = redirectTo ?? appOrigins[0];
  if (base === undefined) {
    throw new HttpError(
      'validation_failed',
      'redirectTo: required, since the server has no app origin configured (PLINTH_CORS_ORIGINS).',
      { field: 'redirectTo' },
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
  return url;
}

/**
 * The link an email carries: the checked base with the token and its type in the query.
 *
 * @example
 * ```ts
 * emailLink(base, 'verify_email', token); // 'https://app.example.com/welcome?type=verify_email&token=ot_…'
 * ```
 */
export function emailLink(base: URL, type: string, token: string): string {
  const url = new URL(base);
  url.searchParams.set('type', type);
  url.searchParams.set('token', token);
  return url.href;
}
