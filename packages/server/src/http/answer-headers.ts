import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';

// Headers every answer carries (security headers, the request id, CORS) are collected per
// request in a plain record before the route runs. A route's JSON answer is built once — status,
// that record plus content type and length, the serialised body — and then written: straight to
// Node's response when the app runs on Node (building an undici Headers and Response and reading
// the body back out of a stream cost more than the route's own work on a fast route like
// GET /v1/auth/me; see docs/benchmarks.md), else as a Response with the same status, headers and
// body (`app.request()`). Only the last write differs. Any other answer (an error's envelope, a
// handler's own Response, a 404) gets the same headers added after the fact, on both.

interface Answer {
  readonly headers: Record<string, string>;
  /** Set when the answer went straight to Node's response. */
  sentStatus?: number;
}

const answers = new WeakMap<Context, Answer>();

const answerOf = (c: Context): Answer => {
  let answer = answers.get(c);
  if (!answer) {
    answer = { headers: {} };
    answers.set(c, answer);
  }
  return answer;
};

/**
 * Adds a header every answer to this request must carry (lower-case name).
 *
 * @example
 * ```ts
 * addAnswerHeader(c, 'x-content-type-options', 'nosniff');
 * ```
 */
export function addAnswerHeader(c: Context, name: string, value: string): void {
  answerOf(c).headers[name] = value;
}

/**
 * Answers `body` as JSON (or 204 without one) with every header added so far: straight to Node's
 * response when the app runs on Node, else through the context.
 *
 * @example
 * ```ts
 * return answerJson(c, { user });
 * ```
 */
export function answerJson(c: Context, body: unknown): Response {
  const answer = answerOf(c);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const status = text === undefined ? 204 : 200;
  const headers =
    text === undefined
      ? answer.headers
      : { ...answer.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  answer.sentStatus = status;
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing) return new Response(text ?? null, { status, headers });
  outgoing.writeHead(status, headers);
  outgoing.end(text);
  return RESPONSE_ALREADY_SENT;
}

/** The status of the answer {@link answerJson} sent, if it sent one. */
export function answeredStatus(c: Context): number | undefined {
  return answers.get(c)?.sentStatus;
}

/**
 * After the route: adds the collected headers to an answer that was built another way. A header
 * the handler set itself is kept; `vary` gets the collected value added to its own.
 *
 * @example
 * ```ts
 * await next();
 * if (answeredStatus(c) === undefined) applyAnswerHeaders(c, c.res.headers);
 * ```
 */
export function applyAnswerHeaders(c: Context, headers: Headers): void {
  const answer = answers.get(c);
  if (!answer) return;
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name === 'vary') {
      const own = headers.get('vary');
      if (
        !own
          ?.toLowerCase()
          .split(/\s*,\s*/)
          .includes(value)
      )
        headers.append('vary', value);
    } else if (!headers.has(name)) {
      headers.set(name, value);
    }
  }
}
