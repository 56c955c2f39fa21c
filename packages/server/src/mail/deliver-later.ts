import type { Logger } from 'pino';
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
  mailer.send(mail).catch((error: unknown) => {
    logger.error(
      { subject: mail.subject, err: error instanceof Error ? error.message : String(error) },
      'mail delivery failed',
    );
  });
}
