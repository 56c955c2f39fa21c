import { ConfigurationError, PlinthError } from '@plinth/core';
import { signWebhook, webhookHeaders, webhookSecretBytes, webhookSecretPrefix } from '@plinth/protocol';

/** Why {@link verifyWebhook} refused a delivery, in `error.details.reason`. */
export type WebhookRefusal =
  | 'missing_header'
  | 'malformed_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'malformed_signature'
  | 'no_matching_signature'
  | 'body_not_json'
  | 'body_not_raw';

/**
 * A webhook delivery that must not be trusted: answer it with a 4xx and do not act on it.
 * `code` is `webhook_unverified` (`details.reason` says why) or `webhook_body_not_raw`.
 */
export class WebhookVerificationError extends PlinthError {
  override name = 'WebhookVerificationError';
  readonly reason: WebhookRefusal;

  constructor(reason: WebhookRefusal, message: string) {
    super(message, {
      code: reason === 'body_not_raw' ? 'webhook_body_not_raw' : 'webhook_unverified',
      details: { reason },
    });
    this.reason = reason;
  }
}

/** Headers as Node (`req.headers`), fetch (`Headers`) or a plain object give them. */
export type WebhookHeaders =
  | Headers
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The body exactly as it arrived: the string or bytes, never a parsed object. */
export type RawWebhookBody = string | Uint8Array | ArrayBuffer;

export interface VerifyWebhookOptions {
  /** How far the delivery's timestamp may be from now, either way, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** The clock, in ms since the epoch (tests). Default `Date.now`. */
  now?: () => number;
}

/** A delivery that verified. */
export interface VerifiedWebhook<Payload = unknown> {
  /** The delivery's id, the same on every retry: process each id once. */
  readonly id: string;
  /** When Plinth signed it. */
  readonly timestamp: Date;
  /** The body parsed as JSON. */
  readonly payload: Payload;
}

const defaultToleranceSeconds = 5 * 60;
const maxSignatures = 16;

/**
 * Checks that a webhook delivery came from Plinth, unchanged and recently, and answers its parsed
 * body. Pass the body exactly as received (in Express, a `express.raw()` route registered before
 * `express.json()`; in a fetch handler, `await request.text()`): any re-serialised JSON changes the
 * bytes and fails. Follows Standard Webhooks: `webhook-id`, `webhook-timestamp` (within
 * ±`toleranceSeconds`, both ways) and `webhook-signature` (several during a secret rotation; one
 * matching is enough), compared in constant time. Runs wherever Web Crypto does.
 *
 * @throws {WebhookVerificationError} the delivery did not verify: answer 400 and do not act on it.
 * @throws {ConfigurationError} `secret` is not a `whsec_` secret.
 *
 * @example
 * ```ts
 * import { verifyWebhook } from '@plinth/admin';
 *
 * export async function POST(request: Request) {
 *   const body = await request.text();
 *   try {
 *     const { id, payload } = await verifyWebhook(process.env.PLINTH_WEBHOOK_SECRET!, request.headers, body);
 *     if (await alreadyProcessed(id)) return new Response(null, { status: 204 });
 *     await handle(payload);
 *     return new Response(null, { status: 204 });
 *   } catch (error) {
 *     if (error instanceof WebhookVerificationError) return new Response(error.message, { status: 400 });
 *     throw error;
 *   }
 * }
 * ```
 */
export async function verifyWebhook<Payload = unknown>(
  secret: string,
  headers: WebhookHeaders,
  rawBody: RawWebhookBody,
  options: VerifyWebhookOptions = {},
): Promise<VerifiedWebhook<Payload>> {
  if (!webhookSecretBytes(secret)) {
    throw new ConfigurationError(
      `verifyWebhook: the secret is not a webhook signing secret. Pass the endpoint's secret as Plinth gave it ("${webhookSecretPrefix}" then base64), for example from an environment variable.`,
      { code: 'invalid_configuration', details: { field: 'secret' } },
    );
  }
  const body = rawBytes(rawBody);
  const id = header(headers, webhookHeaders.id);
  const timestampText = header(headers, webhookHeaders.timestamp);
  const signatureText = header(headers, webhookHeaders.signature);
  const missing = [
    [webhookHeaders.id, id],
    [webhookHeaders.timestamp, timestampText],
    [webhookHeaders.signature, signatureText],
  ].find(([, value]) => !value)?.[0];
  if (missing || !id || !timestampText || !signatureText) {
    throw new WebhookVerificationError(
      'missing_header',
      `The ${missing} header is missing or empty. Pass every header of the request as received (req.headers or request.headers).`,
    );
  }
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError(
      'malformed_timestamp',
      `The ${webhookHeaders.timestamp} header is not a Unix time in seconds.`,
    );
  }
  const timestamp = Number(timestampText);
  const tolerance = options.toleranceSeconds ?? defaultToleranceSeconds;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (timestamp < nowSeconds - tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_old',
      `The delivery was signed ${nowSeconds - timestamp} s ago, over the ${tolerance} s allowed: it may be a replay. If your clock is right, answer 400; Plinth retries with a fresh signature.`,
    );
  }
  if (timestamp > nowSeconds + tolerance) {
    throw new WebhookVerificationError(
      'timestamp_in_future',
      `The delivery is signed ${timestamp - nowSeconds} s in the future, over the ${tolerance} s allowed. Check this machine's clock.`,
    );
  }
  const candidates = signatureText.split(' ').filter(Boolean);
  if (candidates.length === 0 || candidates.length > maxSignatures) {
    throw new WebhookVerificationError(
      'malformed_signature',
      `The ${webhookHeaders.signature} header should hold 1 to ${maxSignatures} space-separated "v1,<base64>" signatures.`,
    );
  }
  const expected = await signWebhook(secret, id, timestamp, body);
  // Every candidate is compared, and each in constant time: how many match, or where one
  // differs, tells an attacker nothing through the time taken.
  let matched = false;
  for (const candidate of candidates) matched = constantTimeEqual(candidate, expected) || matched;
  if (!matched) {
    throw new WebhookVerificationError(
      'no_matching_signature',
      'No signature matches this body with this secret. Check that the secret is this endpoint’s and that the body is the exact raw body received, not re-serialised JSON.',
    );
  }
  return { id, timestamp: new Date(timestamp * 1000), payload: parseBody(body) as Payload };
}

function rawBytes(body: RawWebhookBody): Uint8Array {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  const kind = body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body;
  throw new WebhookVerificationError(
    'body_not_raw',
    `verifyWebhook got ${kind === 'object' ? 'a parsed object' : kind} as the body. Pass the raw body: in Express, register express.raw({ type: 'application/json' }) on the webhook route before express.json(); in a fetch handler, await request.text().`,
  );
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(' ') : (value as string | undefined);
}

function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) difference |= (a.charCodeAt(i) || 0) ^ b.charCodeAt(i);
  return difference === 0;
}

function parseBody(body: Uint8Array): unknown {
  const text = new TextDecoder().decode(body);
  try {
    return JSON.parse(text);
  } catch {
    // Signed with the secret but not JSON: Plinth sends only JSON, so do not act on it.
    throw new WebhookVerificationError(
      'body_not_json',
      'The signature matches but the body is not JSON, which Plinth always sends. Do not act on it.',
    );
  }
}
