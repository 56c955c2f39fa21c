import type { UploadBody } from './upload-to-url.js';

/**
 * Browser builds send uploads with XMLHttpRequest, which reports progress itself; where it is
 * missing (a worker), the body goes to fetch as it is and progress is told once, at the end.
 *
 * @example
 * ```ts
 * await fetch(url, { method: 'PUT', body: countedStream(file, () => {}) });
 * ```
 */
export function countedStream(body: UploadBody, _count: (loaded: number) => void): BodyInit {
  return body as BodyInit;
}
