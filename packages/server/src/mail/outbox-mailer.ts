import type { Logger } from 'pino';
import type { Mail, Mailer } from './mailer.js';

/** A mailer that keeps what it sent, newest last: for `plinth dev` and tests. */
export interface OutboxMailer extends Mailer {
  /** The messages sent, at most `limit` of them, oldest first. */
  readonly messages: readonly (Mail & { sentAt: string })[];
}

/**
 * The development mailer: nothing leaves the machine. Each message goes to the log (so a person
 * running `plinth dev` can click the link) and to a bounded in-memory outbox. Never used when
 * `SMTP_URL` is set.
 *
 * @example
 * ```ts
 * const mailer = createOutboxMailer(logger);
 * await mailer.send({ to: 'ada@example.com', subject: 'Sign in', text: 'https://…' });
 * mailer.messages.at(-1)?.subject; // 'Sign in'
 * ```
 */
export function createOutboxMailer(logger: Logger, limit = 100): OutboxMailer {
  const messages: (Mail & { sentAt: string })[] = [];
  return {
    messages,
    async send(mail) {
      messages.push({ ...mail, sentAt: new Date().toISOString() });
      if (messages.length > limit) messages.splice(0, messages.length - limit);
      logger.info({ to: mail.to, subject: mail.subject }, `dev outbox:\n${mail.text}`);
    },
    async close() {},
  };
}
