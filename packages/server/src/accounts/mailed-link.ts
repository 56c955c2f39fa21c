import { deliverLater } from '../mail/deliver-later.js';
import type { ServerServices } from '../server-services.js';
import { afterAnswer } from './after-answer.js';
import { emailLink, emailLinkBase } from './email-links.js';
import { issueOneTimeToken, type OneTimePurpose } from './one-time-tokens.js';
import { usersRepository } from './users-repository.js';

/** What one kind of emailed link says. */
export interface LinkMail {
  purpose: Exclude<OneTimePurpose, 'verify_email'>;
  subject: string;
  /** The message, given the link. */
  text: (link: string) => string;
}

/**
 * Emails a single-use link to the active account with `email` (in canonical form), and does
 * nothing if there is none. A `redirectTo` outside the app origins is refused at once, known
 * email or not; everything else (the lookup, the token, the mail) runs after the answer
 * ({@link afterAnswer}), so neither the answer nor its timing tells whether the account exists.
 * The link goes to the address the account has, not to the spelling the caller typed.
 *
 * @example
 * ```ts
 * mailLinkIfAccountExists(services, input, { purpose: 'magic_link', subject: 'Your sign-in link', text: (link) => link });
 * return { accepted: true };
 * ```
 */
export function mailLinkIfAccountExists(
  services: ServerServices,
  request: { email: string; redirectTo?: string | undefined },
  mail: LinkMail,
): void {
  const { auth, database, logger } = services;
  const base = emailLinkBase(request.redirectTo, auth.appOrigins);
  afterAnswer(logger, mail.purpose, async () => {
    const user = await usersRepository(database).findActiveByEmail(request.email);
    if (!user) return;
    const token = await database.transaction((tx) => issueOneTimeToken(tx, mail.purpose, user.id));
    // Disabled since the lookup: no link.
    if (token === undefined) return;
    deliverLater(auth.mailer, logger, {
      to: user.email,
      subject: mail.subject,
      text: mail.text(emailLink(base, mail.purpose, token)),
    });
  });
}
