import type { Logger } from 'pino';
import { trackAfterAnswer } from '../accounts/after-answer.js';
import type { Mail, Mailer } from './mailer.js';

/**
 * Sends mail without making the request wait for it. Routes that must not reveal whether an
 * account exists answer at once either way; a slow SMTP server would otherwise give it away.
 *
 * @example
 * ```ts
 * deliverLater(mailer, logger, { to, subject, text });
 * ```
 */
export function deliverLater(mailer: Mailer, logger: Logger, mail: Mail): void {
  // A shutdown waits for it (workAfterAnswers), so a mail the caller was promised is sent.
  trackAfterAnswer(logger, `mail: ${mail.subject}`, mailer.send(mail));
}
