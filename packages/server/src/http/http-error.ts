import { errorEnvelope, type ServerErrorCode, serverErrorCodes } from '@plinth/protocol';

/**
 * An error a handler or middleware throws to answer with the error envelope. The status comes
 * from the code's declaration in @plinth/protocol, so the two can never disagree.
 *
 * @example
 * ```ts
 * throw new HttpError('validation_failed', 'email: not a valid email', { field: 'email' });
 * ```
 */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: ServerErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = serverErrorCodes[code].status;
  }

  /** The answer: the error envelope with this error's status and headers. */
  toResponse(requestId: string): Response {
    return Response.json(errorEnvelope(this.code, this.message, requestId, this.details), {
      status: this.status,
      ...(this.headers ? { headers: this.headers } : {}),
    });
  }
}
