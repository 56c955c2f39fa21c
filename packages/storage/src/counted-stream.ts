import { isWhole } from './send-bytes.js';
import type { UploadBody } from './upload-to-url.js';

// Where XMLHttpRequest is missing (Node, workers), uploads go with fetch and count their progress
// here. Browser builds take counted-stream.browser.ts instead (package.json `browser` field), as
// their uploads go with XMLHttpRequest.

// Fine-grained progress without a call per few bytes.
const sliceBytes = 64 * 1024;

/**
 * The body as a stream that hands fetch at most {@link sliceBytes} per pull and counts what it
 * took: with no read-ahead (high-water mark 0), what fetch has pulled is what it is sending.
 *
 * @example
 * ```ts
 * await fetch(url, { method: 'PUT', body: countedStream(file, (sent) => console.log(sent)), duplex: 'half' });
 * ```
 */
export function countedStream(body: UploadBody, count: (loaded: number) => void) {
  const reader = body instanceof Blob ? body.stream().getReader() : isWhole(body) ? undefined : body.getReader();
  let pending: Uint8Array =
    body instanceof ArrayBuffer ? new Uint8Array(body) : body instanceof Uint8Array ? body : new Uint8Array(0);
  let loaded = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (pending.length === 0) {
          const next = (await reader?.read())?.value;
          if (!next) return controller.close();
          pending = next;
        }
        const chunk = pending.subarray(0, sliceBytes);
        pending = pending.subarray(chunk.length);
        loaded += chunk.length;
        controller.enqueue(chunk);
        count(loaded);
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
