/** An email the server sends (verification, magic link, password reset). */
export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Sends email. The dev outbox or SMTP; tests capture it with a real SMTP server. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): Promise<void>;
}
