import { type Answer, fetched, isWhole, type Sendable } from './send-bytes.js';
import type { UploadBody } from './upload-to-url.js';

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
function countedStream(body: UploadBody, count: (loaded: number) => void) {
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
async function* slices(body: UploadBody): AsyncGenerator<Uint8Array> {
  if (isWhole(body) && !(body instanceof Blob)) {
    const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
    for (let at = 0; at < bytes.length; at += sliceBytes) yield bytes.subarray(at, at + sliceBytes);
    return;
  }
  const reader = (body instanceof Blob ? body.stream() : (body as ReadableStream<Uint8Array>)).getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      for (let at = 0; at < next.value.length; at += sliceBytes) yield next.value.subarray(at, at + sliceBytes);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
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
