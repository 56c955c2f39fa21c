import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.js';

describe('the SMTP mailer', () => {
  const received: { from: string; to: string[]; data: string }[] = [];
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (chunk: Buffer) => {
          data += chunk.toString('utf8');
        });
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            data,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('delivers to a real SMTP server', async () => {
    const mailer = createSmtpMailer(`smtp://127.0.0.1:${port}?ignoreTLS=true`, 'Plinth <no-reply@plinth.test>');
    await mailer.send({
      to: 'ada@example.com',
      subject: 'Your sign-in link',
      text: 'https://app.test/verify?token=abc',
    });
    await mailer.close();
    expect(received).toHaveLength(1);
    expect(received[0]?.from).toBe('no-reply@plinth.test');
    expect(received[0]?.to).toEqual(['ada@example.com']);
    expect(received[0]?.data).toContain('Subject: Your sign-in link');
    expect(received[0]?.data).toContain('https://app.test/verify?token=abc');
  });
});

describe('the dev outbox', () => {
  it('keeps the newest messages up to its limit', async () => {
    const mailer = createOutboxMailer(createLogger('silent'), 3);
    for (let i = 1; i <= 5; i++) await mailer.send({ to: 'a@b.co', subject: `m${i}`, text: '' });
    expect(mailer.messages.map((m) => m.subject)).toEqual(['m3', 'm4', 'm5']);
  });
});
