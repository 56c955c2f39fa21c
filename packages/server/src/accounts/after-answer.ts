import type { Logger } from 'pino';

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
  setImmediate(() => {
    work().catch((error: unknown) => {
      logger.error(
        { work: what, err: error instanceof Error ? error.message : String(error) },
        'work after the answer failed',
      );
    });
  });
}
