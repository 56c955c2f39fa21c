/**
 * Header names and key prefixes of the wire protocol. Lower-case, as `Headers` normalises them.
 */
export const wireHeaders = {
  /** Carries the publishable key: it identifies the app, it authorises nothing. */
  publishableKey: 'apikey',
  authorization: 'authorization',
  /** Set by the SDK per call and echoed by the server in the error envelope and logs. */
  requestId: 'x-request-id',
  /** Sent on retry-safe POSTs so the server can answer a retried request from its first run. */
  idempotencyKey: 'idempotency-key',
  /** `true` on an answer the server replayed from its record of an earlier call with the same key. */
  idempotentReplayed: 'idempotent-replayed',
  retryAfter: 'retry-after',
  /**
   * On a service call: the access token of the user the server should act as, or `anon` for
   * nobody signed in. The statement then runs under row-level security with that user's claims
   * (`auth.uid()`), or as the anonymous role. Without it, a service call runs as the service role.
   */
  actAs: 'x-plinth-act-as',
  /** On `GET /v1/realtime/stream`: the id of the last event the client has; the stream resumes after it. */
  lastEventId: 'last-event-id',
} as const;

/** The `Authorization` scheme of a realtime ticket: `Authorization: Ticket <ticket>`. */
export const ticketScheme = 'Ticket';

/** Readable prefixes that tell, at a glance, which kind of key a string is. */
export const keyPrefixes = {
  publishable: 'pk_',
  service: 'sk_',
  apiKey: 'ak_',
  /** A realtime ticket (not a key: signed, expiring, for one stream's channels). */
  ticket: 'tk_',
} as const;

/**
 * The session cookies a Plinth server sets in cookie mode. A secure deployment (the default)
 * names them with the `__Host-` prefix, which a browser accepts only from this exact host over
 * https, with no `Domain`: a sibling subdomain cannot plant one. Only a plain-http deployment
 * (the server's `secureCookies: false`) uses the bare names, which any sibling could set.
 *
 * @example
 * ```ts
 * sessionCookieNames(true).access; // '__Host-plinth-access'
 * sessionCookieNames(false).refresh; // 'plinth-refresh'
 * ```
 */
export function sessionCookieNames(secure: boolean): { readonly access: string; readonly refresh: string } {
  const prefix = secure ? '__Host-' : '';
  return { access: `${prefix}plinth-access`, refresh: `${prefix}plinth-refresh` };
}

/** The version prefix every route path starts with. */
export const apiVersionPrefix = '/v1';
