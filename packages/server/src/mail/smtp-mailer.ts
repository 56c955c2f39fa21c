import nodemailer from 'nodemailer';
import type { Mailer } from './mailer.js';

/**
 * Sends mail over SMTP (`SMTP_URL`, e.g. `smtps://user:pass@smtp.example.com:465`).
 *
 * @example
 * ```ts
 * const mailer = createSmtpMailer(process.env.SMTP_URL, 'Plinth <no-reply@example.com>');
 * ```
 */
export function createSmtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport(url);
  return {
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    async close() {
      transport.close();
    },
  };
}
