import {
  describeIssue,
  isRetrySafe,
  issueField,
  keyPrefixes,
  type Route,
  type RouteInput,
  type RouteOutput,
  type SchemaIssue,
  wireHeaders,
} from '@plinth/protocol';
import { ownAttemptSignal, sharedAttemptSignals, timedOut } from './attempt-signal.js';
import {
  AbortError,
  ConfigurationError,
  InsecureServiceKeyTargetError,
  MissingServiceKeyError,
  NetworkError,
  ProtocolError,
  ServiceKeyInBrowserError,
  TimeoutError,
  ValidationError,
} from './error-classes.js';
import { errorFromResponse, parseRetryAfter } from './error-from-response.js';
import { type Answer, fetchIsUnchanged, nodeHttpSender } from './node-http.js';
import { isPlinthError, type PlinthError } from './plinth-error.js';
import { backoffDelay, type RetryOptions, resolveRetryPolicy, retryableStatuses } from './retry-policy.js';
import { isBrowserLike, isLoopbackHost, randomId } from './runtime.js';

/** What a hook learns about the call it runs for. */
export interface RequestContext {
  readonly route: Route;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** The call's `X-Request-Id`; the same on every attempt. */
  readonly requestId: string;
}

/** Runs before each attempt is sent; may return a replacement `Request`. */
export type BeforeRequestHook = (
  request: Request,
  context: RequestContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing must type-check.
) => Request | undefined | void | Promise<Request | undefined | void>;

/** Runs after each answer arrives; may return a replacement `Response`. */
export type AfterResponseHook = (
  response: Response,
  request: Request,
  context: RequestContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing must type-check.
) => Response | undefined | void | Promise<Response | undefined | void>;

/** Hooks run in array order, on every attempt. */
export interface TransportHooks {
  beforeRequest?: BeforeRequestHook[];
  afterResponse?: AfterResponseHook[];
}

/** How to reach a Plinth server, and as whom. */
export interface TransportOptions {
  /** The Plinth server, e.g. `https://api.example.com`. Every route path is resolved against it. */
  url: string;
  /** Identifies the app; safe in browsers. Sent as `apikey`. */
  publishableKey?: string | undefined;
  /**
   * Lets this client run data and admin calls. A secret: only on servers. Also accepts a scoped
   * API key (`ak_...`).
   */
  serviceKey?: string | undefined;
  /** A `fetch` to use instead of the global one (to add an agent, or in tests). */
  fetch?: typeof fetch | undefined;
  /**
   * Per-attempt timeout in ms; default 30 000. `false` waits for as long as it takes. Calls made
   * with this timeout and no `signal` of their own share timers, so one may time out up to 1 %
   * of the timeout (at most 100 ms) late, never early; a per-call `timeout` or `signal` is exact.
   */
  timeout?: number | false | undefined;
  /** Retry policy for retry-safe calls, or `false` for none. */
  retry?: RetryOptions | false | undefined;
  /** Headers added to every request. */
  headers?: Record<string, string> | undefined;
  hooks?: TransportHooks | undefined;
  /**
   * Allow a service key in a browser-like runtime. Only for tools that run on a trusted
   * machine (an admin desktop app); never for a web page others can open.
   */
  dangerouslyAllowBrowser?: boolean | undefined;
  /** Whether browsers send cookies to the server: `include` (default) lets cookie sessions work. */
  credentials?: RequestCredentials | undefined;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the transport's timeout for this call. */
  timeout?: number | false | undefined;
  headers?: Record<string, string> | undefined;
  /** A user's access token, for `session` routes in token mode. */
  accessToken?: string | undefined;
  /** A realtime ticket, for `ticket` routes. */
  ticket?: string | undefined;
  /** The full URL the server signed, for `presigned` routes. */
  presignedUrl?: string | undefined;
  /**
   * Overrides the generated `Idempotency-Key` of a retry-safe POST; on a route that deduplicates
   * only when asked (`sql`), sends one, which also makes the call retry-safe.
   */
  idempotencyKey?: string | undefined;
  /** The SDK method as the user called it, for error messages (`from('posts').select()`). */
  caller?: string | undefined;
}

// The keys a caller must give: a route whose input has none may be called without input.
type RequiredKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? never : K }[keyof T];

type CallArgs<R extends Route> = [RequiredKeys<RouteInput<R>>] extends [never]
  ? [input?: RouteInput<R> | undefined, options?: CallOptions | undefined]
  : [input: RouteInput<R>, options?: CallOptions | undefined];

/** The one way Plinth client packages talk to the server. */
export interface Transport {
  /** The server's origin and base path, without a trailing slash. */
  readonly url: string;
  readonly hasServiceKey: boolean;
  /**
   * Calls a route. Throws {@link MissingServiceKeyError} synchronously, before any request, when
   * the route needs the service key and this transport has none; every other failure rejects
   * with a {@link PlinthError}.
   */
  call<R extends Route>(route: R, ...args: CallArgs<R>): Promise<RouteOutput<R>>;
  /**
   * Throws, synchronously, what {@link Transport.call} would throw before building a request for
   * this route: {@link MissingServiceKeyError} when the route needs the service key and this
   * transport has none. For SDK methods that build a call in steps (`from('posts').select()`), so
   * the mistake surfaces at the first step, derived from the route table like `call` itself.
   */
  assertCallable(route: Route, caller?: string): void;
}

const missingServiceKeyMessage = (caller: string) =>
  `${caller} needs a service key, and this client has none. Data, storage-management, realtime-stream and admin calls run on your server: create the client there with createClient({ url, serviceKey: process.env.PLINTH_SERVICE_KEY }). In the browser, ask your server for what it needs (a presigned upload URL, a realtime ticket) instead.`;

const failedSchema = (issues: readonly SchemaIssue[]) => ({
  text: issues.slice(0, 3).map(describeIssue).join('; '),
  field: issues[0] && issueField(issues[0]),
});

function checkServiceKeyTarget(target: URL, base: URL): void {
  if (target.origin !== base.origin) {
    throw new InsecureServiceKeyTargetError(
      `Refusing to send the service key to ${target.origin}: it only ever goes to the configured server, ${base.origin}. If a hook rewrote the URL, leave the host alone.`,
      { code: 'insecure_service_key_target' },
    );
  }
  if (target.protocol === 'http:' && !isLoopbackHost(target.hostname)) {
    throw new InsecureServiceKeyTargetError(
      `Refusing to send the service key over cleartext HTTP to ${target.host}: anyone on the path could read it. Use an https:// URL (plain http is allowed only for localhost).`,
      { code: 'insecure_service_key_target' },
    );
  }
}

// Keys carry their kind in a prefix, so a key put in the wrong slot is caught here. A secret in
// `publishableKey` is the dangerous case: it would ship to every browser without any warning.
function checkKeyKinds(publishableKey: string | undefined, serviceKey: string | undefined): void {
  if (publishableKey?.startsWith(keyPrefixes.service) || publishableKey?.startsWith(keyPrefixes.apiKey)) {
    throw new ConfigurationError(
      '`publishableKey` holds a secret key (sk_/ak_). Pass the publishable key (pk_...) there; a secret key goes in `serviceKey`, and only on your server.',
      { code: 'invalid_configuration' },
    );
  }
  if (serviceKey?.startsWith(keyPrefixes.publishable)) {
    throw new ConfigurationError(
      '`serviceKey` holds a publishable key (pk_...). Pass the service key (sk_...) or an API key (ak_...).',
      {
        code: 'invalid_configuration',
      },
    );
  }
}

function parseBaseUrl(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch (cause) {
    throw new ConfigurationError(
      `\`url\` must be an absolute URL such as https://api.example.com; got ${JSON.stringify(url)}.`,
      { code: 'invalid_configuration', cause },
    );
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new ConfigurationError(`\`url\` must start with https:// (or http:// for localhost); got ${base.protocol}.`, {
      code: 'invalid_configuration',
    });
  }
  return base;
}

/** Everything about a call that stays the same across its attempts. */
interface PreparedCall {
  route: Route;
  request: RequestInit & { method: string; headers: Record<string, string>; body?: string };
  url: URL;
  requestId: string;
  sendsServiceKey: boolean;
  timeout: number | false;
  signal: AbortSignal | undefined;
}

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Creates the transport every Plinth client package uses: keys and headers, retries, timeouts,
 * request ids, hooks and error mapping, in one place.
 *
 * @example
 * ```ts
 * import { createTransport } from '@plinth/core';
 * import { healthRoute } from '@plinth/protocol';
 *
 * const transport = createTransport({ url: 'https://api.example.com', publishableKey: 'pk_...' });
 * const health = await transport.call(healthRoute);
 * ```
 */
export function createTransport(options: TransportOptions): Transport {
  const base = parseBaseUrl(options.url);
  const baseUrl = base.href.replace(/\/+$/, '');
  const { serviceKey, publishableKey } = options;
  checkKeyKinds(publishableKey, serviceKey);
  if (serviceKey !== undefined) {
    if (isBrowserLike() && !options.dangerouslyAllowBrowser) {
      throw new ServiceKeyInBrowserError(
        'A service key was given to a client running in a browser, where every visitor can read it. Keep the service key on your server and create this client without it; for a trusted admin tool only, pass dangerouslyAllowBrowser: true.',
        { code: 'service_key_in_browser' },
      );
    }
    checkServiceKeyTarget(base, base);
  }
  const policy = resolveRetryPolicy(options.retry);
  const fixedUrls = new Map<string, URL>();
  const hooks = options.hooks ?? {};
  const serviceAuthorization = `Bearer ${serviceKey}`;
  const defaultTimeout = options.timeout ?? 30_000;
  const sharedSignal = sharedAttemptSignals(defaultTimeout);
  // Read on every call: hooks pushed onto the arrays after creation count too.
  const hasHooks = () => Boolean(hooks.beforeRequest?.length || hooks.afterResponse?.length);
  // On Node, service-key calls go through node:http, which costs a read about half the CPU time
  // of Node's fetch (docs/decisions/0009). Not where something must see the call as fetch sees
  // it: hooks (they get a Request), a custom `fetch`, or a global fetch replaced since the SDK
  // loaded (a mock, msw, instrumentation).
  const nodeSend = options.fetch === undefined && !isBrowserLike() ? nodeHttpSender() : undefined;

  function prepare(route: Route, input: unknown, callOptions: CallOptions): PreparedCall {
    // Routes that carry their schemas are checked here; per-route imports in browser code carry
    // none (to keep zod out of the bundle) and rely on the server's check.
    const parsed = route.schemas
      ? route.schemas.request.safeParse(input ?? {})
      : { success: true as const, data: input ?? {} };
    if (!parsed.success) {
      const { text, field } = failedSchema(parsed.error.issues);
      throw new ValidationError(
        `${callOptions.caller ?? `${route.name}()`} was called with invalid input: ${text}. No request was made.`,
        {
          code: 'invalid_request',
          details: { field },
        },
      );
    }
    const hasParams = route.path.includes(':');
    const values = hasParams
      ? { ...(parsed.data as Record<string, unknown>) }
      : (parsed.data as Record<string, unknown>);
    const path = hasParams
      ? route.path.replace(/:([A-Za-z_]\w*)/g, (_, name: string) => {
          const value = values[name];
          delete values[name];
          return encodeURIComponent(String(value));
        })
      : route.path;
    const presigned = route.auth === 'presigned';
    if (presigned && !callOptions.presignedUrl) {
      throw new ConfigurationError(
        `${callOptions.caller ?? `${route.name}()`} needs the presigned URL your server created for it (the presignedUrl option).`,
        {
          code: 'invalid_configuration',
        },
      );
    }
    const inQuery = route.method === 'GET' || route.method === 'HEAD' || route.method === 'DELETE';
    // A body route's URL never changes per call, so it is parsed once (nothing mutates it).
    const url = presigned
      ? new URL(callOptions.presignedUrl as string)
      : inQuery || hasParams
        ? new URL(baseUrl + path)
        : (fixedUrls.get(path) ?? (fixedUrls.set(path, new URL(baseUrl + path)).get(path) as URL));
    if (inQuery) {
      for (const [key, value] of Object.entries(values)) {
        for (const item of Array.isArray(value) ? value : [value]) {
          if (item !== undefined) url.searchParams.append(key, String(item));
        }
      }
    }

    const requestId = randomId();
    const headers: Record<string, string> = {
      ...options.headers,
      ...callOptions.headers,
      [wireHeaders.requestId]: requestId,
    };
    if (publishableKey !== undefined && !presigned) headers[wireHeaders.publishableKey] = publishableKey;
    const sendsServiceKey = route.auth === 'service';
    const credential = sendsServiceKey
      ? serviceAuthorization
      : route.auth === 'session' && callOptions.accessToken
        ? `Bearer ${callOptions.accessToken}`
        : route.auth === 'ticket' && callOptions.ticket
          ? `Ticket ${callOptions.ticket}`
          : undefined;
    if (credential) headers[wireHeaders.authorization] = credential;
    // One key per logical call, the same on every attempt: the server answers a retry of work it
    // already did from its record instead of doing it again.
    const key =
      route.idempotent === true
        ? (callOptions.idempotencyKey ?? randomId())
        : route.idempotent && callOptions.idempotencyKey;
    if (typeof key === 'string') headers[wireHeaders.idempotencyKey] = key;
    if (!inQuery) headers['content-type'] = 'application/json';

    return {
      route,
      url,
      requestId,
      sendsServiceKey,
      timeout: callOptions.timeout ?? defaultTimeout,
      signal: callOptions.signal,
      request: {
        method: route.method,
        headers,
        ...(inQuery ? {} : { body: JSON.stringify(values) }),
        // A browser must not send a user's cookies to a URL the server signed for someone else,
        // and a service-key request must not follow a redirect to wherever it points.
        credentials: presigned ? 'omit' : (options.credentials ?? 'include'),
        redirect: sendsServiceKey ? 'manual' : 'follow',
      },
    };
  }

  /**
   * One attempt: runs the hooks, checks where the service key would go, and reads the whole
   * body under the timeout (a server that stalls mid-body times out too).
   */
  async function send(prepared: PreparedCall, attempt: number): Promise<{ response: Answer; body: unknown }> {
    const { route, requestId, signal, timeout } = prepared;
    const context: RequestContext = { route, attempt, requestId };
    // A Request object only when a hook will see it: building one and then fetching it costs
    // a second copy of the headers and body on every call.
    let request = hasHooks() ? new Request(prepared.url, prepared.request) : undefined;
    for (const hook of hooks.beforeRequest ?? []) request = (await hook(request as Request, context)) ?? request;
    // Without hooks the URL is the one prepare() built from the base URL and the route's path
    // (parameters percent-encoded), so only a hook can have pointed it elsewhere.
    if (prepared.sendsServiceKey && request) checkServiceKeyTarget(new URL(request.url), base);

    const lease =
      signal === undefined && timeout === defaultTimeout ? sharedSignal() : ownAttemptSignal(timeout, signal);
    const attemptSignal = lease.signal;
    let response: Answer;
    try {
      try {
        if (nodeSend && prepared.sendsServiceKey && !request && fetchIsUnchanged()) {
          // node:http follows no redirect, so the key stays with the configured server as with
          // fetch's `manual` mode, and run() reports the redirect.
          response = await nodeSend(prepared.url, { ...prepared.request, signal: attemptSignal });
        } else {
          const init: RequestInit = request ? {} : prepared.request;
          response = await (options.fetch ?? fetch)(
            request ?? prepared.url,
            attemptSignal ? { ...init, signal: attemptSignal } : init,
          );
        }
      } catch (cause) {
        throw transportFailure(cause, prepared, attemptSignal);
      }
      // Hooks mean fetch (above), so the answer is a Response.
      for (const hook of hooks.afterResponse ?? [])
        response = (await hook(response as Response, request as Request, context)) ?? response;
      // A body cut off halfway (the connection closed) is a network failure like no answer at all.
      const reading = readBody(response, route, requestId).catch((cause: unknown) => {
        throw transportFailure(cause, prepared, attemptSignal);
      });
      // Raced against the signal as well: a fetch whose body ignores the signal (a custom fetch,
      // a mock) must not let a stalled body outlive the timeout.
      const body = await lease.race(reading, () => response.body?.cancel().catch(() => {}));
      return { response, body };
    } catch (cause) {
      throw attemptSignal?.aborted ? transportFailure(cause, prepared, attemptSignal) : cause;
    } finally {
      lease.release();
    }
  }

  function assertCallable(route: Route, caller?: string): void {
    if (route.auth === 'service' && serviceKey === undefined) {
      throw new MissingServiceKeyError(missingServiceKeyMessage(caller ?? `${route.name}()`), {
        code: 'missing_service_key',
      });
    }
  }

  function call<R extends Route>(route: R, ...[input, callOptions = {}]: CallArgs<R>): Promise<RouteOutput<R>> {
    // Thrown here, outside the promise, so the mistake surfaces where it is made and no request
    // object is ever built.
    assertCallable(route, callOptions.caller);
    return run(route, input, callOptions);
  }

  async function run<R extends Route>(route: R, input: unknown, callOptions: CallOptions): Promise<RouteOutput<R>> {
    const prepared = prepare(route, input, callOptions);
    const { requestId, signal } = prepared;
    const limit = isRetrySafe(route, wireHeaders.idempotencyKey in prepared.request.headers) ? policy.limit : 0;
    const deadline = Date.now() + policy.maxElapsed;
    for (let attempt = 1; ; attempt++) {
      let error: PlinthError;
      // undefined: do not retry; -1: back off; otherwise the ms the server asked for.
      let delay: number | undefined;
      try {
        const { response, body } = await send(prepared, attempt);
        if (response.ok) return parseOutput(route, body, requestId);
        const retryAfter = response.headers.get(wireHeaders.retryAfter);
        error = isRedirect(response.status)
          ? new ProtocolError(
              `The server answered ${route.method} ${route.path} with a redirect (${response.headers.get('location') ?? 'no location'}); the SDK does not follow redirects with the service key. Set \`url\` to the final address.`,
              { code: 'invalid_response', status: response.status, requestId },
            )
          : errorFromResponse(response.status, body, retryAfter, requestId);
        if (retryableStatuses.has(response.status)) delay = parseRetryAfter(retryAfter) ?? -1;
      } catch (cause) {
        // A hook's own error is the app's, not the network's: it propagates as it is.
        if (!isPlinthError(cause)) throw cause;
        error = cause;
        if (error instanceof NetworkError) delay = -1;
      }
      // The budget: no retry once it is spent, and no wait ends past it. A backoff is cut short to
      // fit; the server's own wait is not, since a retry before it would only be refused again.
      const left = deadline - Date.now();
      if (delay === undefined || attempt > limit || left <= 0 || delay > left || delay > policy.maxRetryAfter)
        throw error;
      try {
        await sleep(delay < 0 ? Math.min(backoffDelay(policy, attempt), left) : delay, signal);
      } catch (reason) {
        throw transportFailure(reason, prepared, signal);
      }
    }
  }

  return { url: baseUrl, hasServiceKey: serviceKey !== undefined, call, assertCallable };
}

// A manual-redirect answer: a 3xx in Node, an opaque status 0 in browsers.
const isRedirect = (status: number) => status === 0 || (status >= 300 && status < 400);

async function readBody(response: Answer, route: Route, requestId: string): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    if (!response.ok) return text;
    throw new ProtocolError(
      `The answer to ${route.method} ${route.path} is not JSON (${response.headers.get('content-type') ?? 'no content type'}). Is \`url\` pointing at a Plinth server?`,
      {
        code: 'invalid_response',
        status: response.status,
        requestId,
        cause,
      },
    );
  }
}

function parseOutput<R extends Route>(route: R, body: unknown, requestId: string): RouteOutput<R> {
  if (!route.schemas) return body as RouteOutput<R>;
  const parsed = route.schemas.response.safeParse(body);
  if (parsed.success) return parsed.data as RouteOutput<R>;
  const { text, field } = failedSchema(parsed.error.issues);
  throw new ProtocolError(
    `The answer to ${route.method} ${route.path} does not match the wire contract: ${text}. Are the SDK and server versions compatible?`,
    {
      code: 'invalid_response',
      requestId,
      details: { field },
    },
  );
}

/** The error for a call that got no (complete) answer: aborted, timed out, or the network failed. */
function transportFailure(
  cause: unknown,
  {
    route,
    requestId,
    timeout,
    signal,
  }: { route: Route; requestId: string; timeout: number | false; signal: AbortSignal | undefined },
  attemptSignal: AbortSignal | undefined,
): PlinthError {
  if (isPlinthError(cause)) return cause;
  const where = `${route.method} ${route.path}`;
  if (signal?.aborted)
    return new AbortError(`${where} was aborted by the caller.`, { code: 'aborted', requestId, cause });
  if (attemptSignal?.reason === timedOut) {
    return new TimeoutError(
      `${where} got no answer within ${String(timeout)} ms. Raise \`timeout\` for slow calls, or check that the server is up.`,
      { code: 'request_timeout', requestId },
    );
  }
  return new NetworkError(
    `${where} failed before an answer came (${cause instanceof Error ? cause.message : String(cause)}). Check that the server at \`url\` is reachable.`,
    { code: 'network_error', requestId, cause },
  );
}

/**
 * One call of a client method on `transport`, named as the user wrote it (`caller`), so errors
 * read like the line that failed; `call` checks the key first, synchronously, so a missing
 * service key surfaces where the call is made, before any request. For sub-clients whose
 * methods each call one route.
 *
 * @example
 * ```ts
 * const bucket = await callAs(transport, createBucketRoute, 'storage.createBucket()', { name: 'avatars' }, undefined);
 * ```
 */
export function callAs<R extends Route>(
  transport: Transport,
  route: R,
  caller: string,
  input: RouteInput<R>,
  options: CallOptions | undefined,
): Promise<RouteOutput<R>> {
  return (transport.call as (route: R, input: RouteInput<R>, options: CallOptions) => Promise<RouteOutput<R>>)(
    route,
    input,
    { ...options, caller },
  );
}
