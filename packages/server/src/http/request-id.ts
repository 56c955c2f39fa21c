import { randomUUID } from 'node:crypto';

// An id from the client is kept only when it cannot inject anything into logs.
const acceptable = /^[A-Za-z0-9_-]{8,128}$/;

/**
 * The request's id: the client's `X-Request-Id` when it is a plain token, else a new one.
 *
 * @example
 * ```ts
 * requestIdFor(request.headers.get('x-request-id')); // '0f6c…' either way
 * ```
 */
export function requestIdFor(fromClient: string | null | undefined): string {
  return fromClient && acceptable.test(fromClient) ? fromClient : randomUUID().replaceAll('-', '');
}
