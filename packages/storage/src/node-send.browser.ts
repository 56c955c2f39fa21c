import { type Answer, type Failure, fetched, refusedChunk, type Sendable } from './send-bytes.js';

/**
 * Browser builds send a stream body whole, as XMLHttpRequest and forms take no stream (and
 * browsers stream a request body over HTTP/2 only): read into a Blob, each chunk checked to be
 * bytes. Web streams are read with a reader: not every browser can iterate them.
 *
 * @example
 * ```ts
 * const blob = await streamedBody(file.stream(), signal, failure);
 * ```
 */
export async function streamedBody(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  failure: Failure,
): Promise<Blob> {
  const parts: Uint8Array[] = [];
  // Leaving the loop early (a refused chunk, an abort) cancels the stream through return().
  for await (const chunk of 'getReader' in body ? readerChunks(body.getReader()) : body) {
    signal.throwIfAborted();
    if (!(chunk instanceof Uint8Array)) {
      failure.error ??= refusedChunk(chunk);
      throw failure.error;
    }
    parts.push(chunk);
  }
  return new Blob(parts as BlobPart[]);
}

async function* readerChunks(reader: ReadableStreamDefaultReader<Uint8Array>) {
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Browser builds send uploads with XMLHttpRequest, which reports progress itself; where it is
 * missing (a worker), the body (whole by then) goes to fetch as it is and progress is told
 * once, at the end.
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
