/**
 * Node's own HTTP client (`node:http`, `node:https`), which the transport uses on Node for
 * service-key calls: a read costs about half the CPU time it costs through Node's `fetch`, which
 * turns every request body into a web stream (docs/decisions/0009). Browsers and every other case
 * use `fetch`.
 */

/** What the transport reads of an answer: the part of a `Response` both clients provide. */
export interface Answer {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** The whole body as text; rejects if the connection ends before it does. */
  text(): Promise<string>;
  /** Stops reading the body and frees the connection. */
  readonly body: { cancel(): Promise<void> } | null;
}

/** One request, as the transport has prepared it. */
export interface NodeRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Sends one request and resolves with its answer once the status and headers have arrived. */
export type NodeSend = (url: URL, request: NodeRequest) => Promise<Answer>;

// The few members of node:http this file uses, declared here because @plinth/core is built
// without Node's types (it runs in browsers too).
interface IncomingMessage {
  readonly statusCode?: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly complete: boolean;
  setEncoding(encoding: 'utf8'): void;
  on(event: 'data', listener: (chunk: string) => void): void;
  on(event: 'end' | 'close', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  destroy(): void;
}
interface ClientRequest {
  on(event: 'response', listener: (response: IncomingMessage) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  end(body?: string): void;
}
interface HttpModule {
  request(url: URL, options: { method: string; headers: Record<string, string>; signal?: AbortSignal }): ClientRequest;
}

interface NodeProcess {
  versions?: { undici?: unknown };
  getBuiltinModule?: (id: string) => unknown;
}

// The global fetch as it was when the SDK was loaded. A different one at call time means
// something replaced it (a test's mock, msw, instrumentation); calls then go through it, so
// whatever replaced it sees them.
const fetchAtLoad = globalThis.fetch;

/**
 * The `node:http` sender, or undefined where there is none: outside Node (no undici in
 * `process.versions`), on a Node without `process.getBuiltinModule` (before 20.16), or in a
 * browser-like runtime.
 *
 * @example
 * ```ts
 * const send = nodeHttpSender();
 * const answer = await send?.(new URL('http://127.0.0.1:8787/v1/health'), { method: 'GET', headers: {} });
 * ```
 */
export function nodeHttpSender(): NodeSend | undefined {
  const node = (globalThis as { process?: NodeProcess }).process;
  if (typeof node?.versions?.undici !== 'string' || typeof node.getBuiltinModule !== 'function') return undefined;
  const getBuiltinModule = node.getBuiltinModule;
  // Looked up per request, not kept: a module patched later (msw intercepts `http.request`) is
  // then the one used.
  const moduleFor = (url: URL) =>
    getBuiltinModule(url.protocol === 'https:' ? 'node:https' : 'node:http') as HttpModule;
  return (url, { method, headers, body, signal }) =>
    new Promise((resolve, reject) => {
      const request = moduleFor(url).request(url, signal ? { method, headers, signal } : { method, headers });
      // Kept for the request's whole life: an error after the answer began (an abort) must not
      // be an unhandled 'error' event; the body's own promise reports it.
      request.on('error', reject);
      request.on('response', (response) => resolve(answerOf(response)));
      // One write: with the body given to end(), Node sends it with a Content-Length.
      request.end(body);
    });
}

/** True while the global `fetch` is the one the SDK was loaded with (see `fetchAtLoad`). */
export function fetchIsUnchanged(): boolean {
  return globalThis.fetch === fetchAtLoad;
}

function answerOf(response: IncomingMessage): Answer {
  const status = response.statusCode ?? 0;
  // Read from the start, so the socket is never left full while the transport decides.
  response.setEncoding('utf8');
  let text = '';
  response.on('data', (chunk) => {
    text += chunk;
  });
  const whole = new Promise<string>((resolve, reject) => {
    response.on('end', () => resolve(text));
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(new Error('the connection closed before the whole answer arrived'));
    });
  });
  // Rejections are read through text(); this keeps one nobody asked for from being unhandled.
  whole.catch(() => {});
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: {
      get(name) {
        const value = response.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    text: () => whole,
    body: {
      cancel() {
        response.destroy();
        return Promise.resolve();
      },
    },
  };
}
