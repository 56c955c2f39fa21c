import { type Answer, type Failure, fetched, isWhole, refusedChunk, type Sendable } from './send-bytes.js';

// Where XMLHttpRequest is missing, uploads go from here: in Node over `node:http` (fetch turns
// every request body into a web stream, about five times the CPU per byte in `pnpm bench
// storage`; decision 0009 says the same of core's calls), elsewhere (a runtime without
// `node:http`, a replaced global fetch, a form) with fetch and a counted stream. Browser builds take node-send.browser.ts instead
// (package.json `browser` field): their uploads go with XMLHttpRequest.

// Fine-grained progress without a call per few bytes.
const sliceBytes = 64 * 1024;

/**
 * The body as a stream that hands fetch at most {@link sliceBytes} per pull and counts what it
 * took: with no read-ahead (high-water mark 0), what fetch has pulled is what it is sending.
 */
function countedStream(body: Exclude<Sendable, FormData>, count: (loaded: number) => void) {
  const chunks = slices(body);
  let loaded = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) return controller.close();
        loaded += next.value.length;
        controller.enqueue(next.value);
        count(loaded);
      },
      cancel: () => chunks.return(undefined).then(() => {}),
    },
    { highWaterMark: 0 },
  );
}

// The few members of node:http used here, declared because this package is built without
// Node's types (it runs in browsers too).
interface IncomingMessage {
  readonly statusCode?: number;
  readonly headers: Record<string, string | string[] | undefined>;
  setEncoding(encoding: 'utf8'): void;
  on(event: 'data', listener: (chunk: string) => void): void;
  on(event: 'end', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface ClientRequest {
  on(event: 'response', listener: (response: IncomingMessage) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(chunk: Uint8Array): boolean;
  once(event: 'drain', listener: () => void): void;
  end(): void;
  destroy(error?: Error): void;
}
interface HttpModule {
  request(url: URL, options: { method: string; headers: Record<string, string>; signal: AbortSignal }): ClientRequest;
}
interface NodeProcess {
  versions?: { undici?: unknown };
  getBuiltinModule?: (id: string) => unknown;
}

// The global fetch as it was when the SDK was loaded: a different one at call time (a test's
// mock, instrumentation) sees the uploads, as it sees every other call.
const fetchAtLoad = globalThis.fetch;

/** `node:http` or `node:https` for `url`, where this is Node and fetch was not replaced. */
function nodeHttp(url: URL): HttpModule | undefined {
  const node = (globalThis as { process?: NodeProcess }).process;
  if (typeof node?.versions?.undici !== 'string' || typeof node.getBuiltinModule !== 'function') return undefined;
  if (globalThis.fetch !== fetchAtLoad) return undefined;
  return node.getBuiltinModule(url.protocol === 'https:' ? 'node:https' : 'node:http') as HttpModule;
}

/** The body's bytes, a slice of at most {@link sliceBytes} at a time. */
async function* slices(body: Exclude<Sendable, FormData>): AsyncGenerator<Uint8Array> {
  if (body instanceof ArrayBuffer || body instanceof Uint8Array) {
    const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
    for (let at = 0; at < bytes.length; at += sliceBytes) yield bytes.subarray(at, at + sliceBytes);
    return;
  }
  // A Blob's stream is a web stream, async-iterable in Node; the iteration cancels it if left.
  const chunks: AsyncIterable<Uint8Array> =
    body instanceof Blob ? (body.stream() as unknown as AsyncIterable<Uint8Array>) : body;
  for await (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += sliceBytes) yield chunk.subarray(at, at + sliceBytes);
  }
}

/**
 * The chunks of a stream body, each checked to be bytes (else `failure` gets the error saying
 * what to send, and the call stops). An abort cancels the body, and so does leaving it early.
 * Web streams are read with a reader: not every browser can iterate them. (No race against an
 * abort promise per read: each race would keep its chunk alive until the call ends.)
 */
async function* checkedChunks(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  failure: Failure,
): AsyncGenerator<Uint8Array> {
  const reader = 'getReader' in body ? body.getReader() : undefined;
  const iterator = reader ? undefined : (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  // The stream is told why it ends early: a refused chunk or an abort. Cancelling a web stream
  // ends a read that waits; an iterator's return() waits for that read, so a Node stream is
  // destroyed instead.
  const destroy = (body as { destroy?: unknown }).destroy;
  const cancel = () =>
    Promise.resolve(
      reader
        ? reader.cancel(failure.error ?? signal.reason)
        : typeof destroy === 'function'
          ? destroy.call(body)
          : iterator?.return?.(),
    ).catch(() => {});
  signal.addEventListener('abort', cancel, { once: true });
  let ended = false;
  try {
    for (;;) {
      signal.throwIfAborted();
      const next = await (reader ? reader.read() : (iterator as AsyncIterator<Uint8Array>).next());
      signal.throwIfAborted();
      if (next.done) {
        ended = true;
        return;
      }
      if (!(next.value instanceof Uint8Array)) {
        failure.error ??= refusedChunk(next.value);
        throw failure.error;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', cancel);
    if (!ended) await cancel();
  }
}

/**
 * A stream body as uploadToUrl sends it: its chunks as they come, checked; or, for a sender that
 * takes no stream (`whole`: a form to S3; XMLHttpRequest), read into a Blob first.
 *
 * @example
 * ```ts
 * const chunks = await streamedBody(createReadStream(path), signal, failure, false);
 * ```
 */
export async function streamedBody(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  failure: Failure,
  whole: boolean,
): Promise<AsyncIterable<Uint8Array> | Blob> {
  const chunks = checkedChunks(body, signal, failure);
  // XMLHttpRequest (a polyfill, in Node) takes no stream either.
  if (!whole && typeof XMLHttpRequest !== 'function') return chunks;
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return new Blob(parts as BlobPart[]);
}

/**
 * Sends one upload request where there is no XMLHttpRequest, counting the bytes as they go.
 *
 * @example
 * ```ts
 * const answer = await sendWithoutXhr('PUT', url, headers, file, signal, (sent) => console.log(sent));
 * ```
 */
export async function sendWithoutXhr(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Sendable,
  signal: AbortSignal,
  count: (loaded: number) => void,
): Promise<Answer> {
  const http = nodeHttp(url);
  if (!http || body instanceof FormData) {
    return fetched(method, url, headers, body instanceof FormData ? body : countedStream(body, count), signal);
  }
  // A known length goes as Content-Length, so the server refuses an oversized upload at once.
  const length = isWhole(body) ? { 'content-length': String(body instanceof Blob ? body.size : body.byteLength) } : {};
  return new Promise<Answer>((resolve, reject) => {
    const request = http.request(url, { method, headers: { ...headers, ...length }, signal });
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('error', reject);
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        resolve({
          status: response.statusCode ?? 0,
          text,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
        });
      });
    });
    (async () => {
      let loaded = 0;
      for await (const slice of slices(body)) {
        // Counted once handed to the socket; past its buffer, the next waits for it to drain, so
        // memory stays flat whatever the size.
        if (!request.write(slice)) await new Promise<void>((drained) => request.once('drain', drained));
        loaded += slice.length;
        count(loaded);
      }
      request.end();
    })().catch((error: unknown) => {
      request.destroy(error as Error);
      reject(error);
    });
  });
}
