import type { ServerServices } from '../handlers/define-handler.js';
import { deliverLater } from '../mail/deliver-later.js';
import { emailLink, emailLinkBase } from './email-links.js';
import { issueOneTimeToken, type OneTimePurpose } from './one-time-tokens.js';

/** What one kind of emailed link says. */
export interface LinkMail {
  purpose: Exclude<OneTimePurpose, 'verify_email'>;
  subject: string;
  /** The message, given the link. */
  text: (link: string) => string;
}

/**
 * Emails a single-use link to `email` if an active account has it, and does nothing otherwise.
 * The caller answers the same either way (no account enumeration), and the mail goes out in the
 * background, so timing does not tell either. A `redirectTo` outside the app origins is refused
 * before anything else, known email or not.
 *
 * @example
 * ```ts
 * await mailLinkIfAccountExists(services, input, { purpose: 'magic_link', subject: 'Your sign-in link', text: (link) => link });
 * ```
 */
export async function mailLinkIfAccountExists(
  services: ServerServices,
  request: { email: string; redirectTo?: string | undefined },
  mail: LinkMail,
): Promise<void> {
  const { auth, database, logger } = services;
  const base = emailLinkBase(request.redirectTo, auth.appOrigins);
  const [user] = await database.query<{ id: string }>(
    'SELECT id FROM plinth.users WHERE lower(email) = lower($1) AND disabled_at IS NULL',
    [request.email],
  );
  if (!user) return;
  const token = await issueOneTimeToken(database, mail.purpose, user.id);
  deliverLater(auth.mailer, logger, {
    to: request.email,
    subject: mail.subject,
    text: mail.text(emailLink(base, mail.purpose, token)),
  });
}
