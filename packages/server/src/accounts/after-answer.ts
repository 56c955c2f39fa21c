import type { Logger } from 'pino';

// Work started after an answer and not yet finished, so that shutting down can wait for it: an
// account, a token or a mail the caller was told about must not be lost to a restart.
const unfinished = new Set<Promise<void>>();

/**
 * Keeps `work` among the work a shutdown waits for ({@link workAfterAnswers}); a failure is
 * logged, never thrown.
 *
 * @example
 * ```ts
 * trackAfterAnswer(logger, 'mail', mailer.send(mail));
 * ```
 */
export function trackAfterAnswer(logger: Logger, what: string, work: Promise<void>): void {
  const tracked = work
    .catch((error: unknown) => {
      logger.error(
        { work: what, err: error instanceof Error ? error.message : String(error) },
        'work after the answer failed',
      );
    })
    .finally(() => unfinished.delete(tracked));
  unfinished.add(tracked);
}

/**
 * Runs account work once the request has been answered: creating an account, issuing a token,
 * queueing its mail. Routes that must not reveal whether an email has an account (sign-up,
 * magic link, reset) answer before any of it, so the answer costs the same either way and its
 * timing tells nothing. `setImmediate` puts the work after the current turn of the event loop,
 * in which the answer is written. A failure is logged, never thrown: the caller has its answer.
 *
 * @example
 * ```ts
 * afterAnswer(logger, 'magic link', async () => {
 *   await issueAndMail(email);
 * });
 * return { accepted: true };
 * ```
 */
export function afterAnswer(logger: Logger, what: string, work: () => Promise<void>): void {
  trackAfterAnswer(logger, what, new Promise<void>((resolve) => setImmediate(resolve)).then(work));
}

/**
 * Resolves once all work started after answers has finished, work it starts in turn included:
 * what a shutdown waits for before it closes the mailer and the database.
 *
 * @example
 * ```ts
 * await workAfterAnswers();
 * await database.close();
 * ```
 */
export async function workAfterAnswers(): Promise<void> {
  while (unfinished.size > 0) await Promise.allSettled([...unfinished]);
}
