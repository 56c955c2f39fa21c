import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import {
  destinationProblem,
  guardedLookup,
  isPrivateAddress,
  privateDestinationError,
  type Resolve,
} from './destination-guard.js';

/** One delivery attempt of a signed webhook. */
export interface WebhookAttemptRequest {
  url: string;
  /** webhook-id, webhook-timestamp, webhook-signature and content-type, already set by the caller. */
  headers: Readonly<Record<string, string>>;
  body: string;
  /** The whole attempt: connect, send, status and the excerpt. The caller's default is 15000. */
  timeoutMs: number;
  allowPrivate: boolean;
  /** Tests inject a resolver; the server uses the system one. */
  resolve?: Resolve;
}

/** What one attempt came to; `sendWebhook` never throws, every failure is one of these. */
export interface WebhookAttemptResult {
  /** True only for a 2xx status. */
  ok: boolean;
  /** The HTTP status, if one came back. */
  status?: number;
  /** The first 1024 bytes of the response body as UTF-8 (lossy), '' if none. */
  excerpt: string;
  /** Whole milliseconds from the start to the end of the attempt. */
  durationMs: number;
  /** Only when no status came back. */
  error?: {
    code: 'private_destination' | 'timeout' | 'connection_failed' | 'invalid_url';
    message: string;
  };
}

const EXCERPT_BYTES = 1024;
const USER_AGENT = 'Plinth-Webhooks/1';

// Keep-alive spares a TCP (and TLS) handshake per webhook to the same receiver. A pooled socket
// skips `lookup`, which is safe because it was checked when it connected; but the pool key does
// not include the policy, so sockets opened while private destinations were allowed get their
// own pool and can never serve an attempt that forbids them.
const agents = {
  guarded: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
  allowingPrivate: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
};

/**
 * Makes ONE attempt to POST a webhook: no redirects followed (a 3xx is just a status), at most
 * 1024 bytes of the answer read, and one timer for the whole attempt. Private destinations are
 * refused unless `allowPrivate`, both for literal IP hosts and for every address a hostname
 * resolves to at connect time.
 *
 * @example
 * ```ts
 * const result = await sendWebhook({
 *   url: 'https://hooks.example.com/plinth',
 *   headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig },
 *   body,
 *   timeoutMs: 15_000,
 *   allowPrivate: false,
 * });
 * if (!result.ok) scheduleRetry(result.status, result.error);
 * ```
 */
export async function sendWebhook(request: WebhookAttemptRequest): Promise<WebhookAttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  // allowPrivate: true here because a private literal gets its own error code just below.
  const problem = destinationProblem(request.url, { allowPrivate: true });
  if (problem !== undefined) {
    return { ok: false, excerpt: '', durationMs: elapsed(), error: { code: 'invalid_url', message: problem } };
  }
  const target = new URL(request.url);
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  // Node connects to a literal IP without calling `lookup`, so the guard would never see it.
  if (isIP(host) !== 0 && !request.allowPrivate && isPrivateAddress(host)) {
    const message = privateDestinationError(host, host).message;
    return { ok: false, excerpt: '', durationMs: elapsed(), error: { code: 'private_destination', message } };
  }

  return new Promise((resolve) => {
    let status: number | undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (error?: WebhookAttemptResult['error']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result: WebhookAttemptResult = {
        ok: status !== undefined && status >= 200 && status < 300,
        excerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8'),
        durationMs: elapsed(),
      };
      if (status !== undefined) result.status = status;
      else result.error = error ?? { code: 'connection_failed', message: `${target.host} closed the connection` };
      resolve(result);
    };

    const pool = request.allowPrivate ? agents.allowingPrivate : agents.guarded;
    let outgoing: http.ClientRequest;
    try {
      outgoing = (target.protocol === 'https:' ? https : http).request(target, {
        method: 'POST',
        headers: {
          ...request.headers,
          'user-agent': USER_AGENT,
          'content-length': String(Buffer.byteLength(request.body)),
        },
        agent: target.protocol === 'https:' ? pool.https : pool.http,
        lookup: guardedLookup(
          request.resolve === undefined
            ? { allowPrivate: request.allowPrivate }
            : { allowPrivate: request.allowPrivate, resolve: request.resolve },
        ),
      });
    } catch (error) {
      // Node validates header names and values synchronously.
      const reason = error instanceof Error ? error.message : String(error);
      finish({ code: 'connection_failed', message: `the request could not be built: ${reason}` });
      return;
    }

    timer = setTimeout(() => {
      finish({
        code: 'timeout',
        message: `${target.host} did not answer within ${request.timeoutMs} ms; a receiver should answer at once and do its work afterwards`,
      });
      outgoing.destroy();
    }, request.timeoutMs);

    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_WEBHOOK_PRIVATE_DESTINATION') {
        finish({ code: 'private_destination', message: error.message });
      } else {
        finish({
          code: 'connection_failed',
          message: `could not reach ${target.host}: ${error.message}; check that the receiver is running and reachable from the server`,
        });
      }
    });

    outgoing.on('response', (response) => {
      status = response.statusCode;
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        chunks.push(chunk);
        received += chunk.length;
        if (received >= EXCERPT_BYTES) {
          // Enough for the excerpt: a receiver answering with 100 MB must cost neither memory nor time.
          finish();
          outgoing.destroy();
        }
      });
      // 'error' and 'close' also end a body cut short (the timeout, a reset); the status is kept.
      response.on('end', () => finish());
      response.on('error', () => finish());
      response.on('close', () => finish());
    });

    outgoing.end(request.body);
  });
}
