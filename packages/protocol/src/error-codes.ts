/**
 * The families of errors, each with one SDK error class. A code's family follows from its HTTP
 * status (see {@link errorKindForStatus}), so an SDK that meets a code newer than itself still
 * throws the right class.
 */
export type ErrorKind =
  | 'validation'
  | 'auth'
  | 'permission'
  | 'not_found'
  | 'conflict'
  | 'rate_limit'
  | 'timeout'
  | 'server'
  | 'unknown';

interface ErrorCodeSpec {
  readonly status: number;
  /** When a server sends it, in words for the docs. */
  readonly meaning: string;
}

/**
 * Every code a Plinth server may put in an error envelope. Codes are stable: once shipped, a code
 * keeps its name and status. New codes may be added.
 */
export const serverErrorCodes = {
  validation_failed: {
    status: 400,
    meaning: 'The request body, query or path failed its schema; `details.field` names the field.',
  },
  invalid_json: { status: 400, meaning: 'The request body is not valid JSON.' },
  payload_too_large: { status: 413, meaning: 'The request body is over the size cap.' },
  unauthenticated: { status: 401, meaning: 'No valid session, access token or key was sent.' },
  invalid_credentials: { status: 401, meaning: 'The email and password, code or token did not match.' },
  session_expired: { status: 401, meaning: 'The session or access token has expired or was revoked.' },
  permission_denied: { status: 403, meaning: 'The caller is known but may not do this.' },
  insufficient_scope: {
    status: 403,
    meaning: 'The API key lacks the scope this route needs; `details.scope` names it.',
  },
  origin_rejected: { status: 403, meaning: 'A cookie-authenticated change came from an origin that is not allowed.' },
  not_found: { status: 404, meaning: 'The resource does not exist, or the caller may not know it does.' },
  route_not_found: { status: 404, meaning: 'No route has this path.' },
  method_not_allowed: { status: 405, meaning: 'The path exists, but not with this method.' },
  range_not_satisfiable: {
    status: 416,
    meaning: 'The `Range` asked for starts past the end of the object; `Content-Range` gives its size.',
  },
  conflict: {
    status: 409,
    meaning:
      'The change conflicts with existing data (`details` names the constraint), or a call with the same `Idempotency-Key` is still running.',
  },
  idempotency_key_reused: {
    status: 422,
    meaning: 'The `Idempotency-Key` was already used by this caller for a different request; use a new key.',
  },
  rate_limited: { status: 429, meaning: 'Too many requests; wait for `Retry-After` seconds.' },
  internal_error: { status: 500, meaning: 'The server failed; the request id finds it in the logs.' },
  database_error: {
    status: 500,
    meaning:
      'The database failed on its own (an internal, I/O or configuration error), not because of the request; the request id finds it in the logs.',
  },
  not_implemented: {
    status: 501,
    meaning:
      'The route is in the contract, but this server does not serve it (a newer SDK, or a feature not built yet).',
  },
  service_unavailable: { status: 503, meaning: 'The server or its database is down or shutting down.' },
  timeout: { status: 504, meaning: 'The server gave up on the work (a statement timeout, say).' },
} as const satisfies Record<string, ErrorCodeSpec>;

/** A code a server may send. */
export type ServerErrorCode = keyof typeof serverErrorCodes;

/**
 * Codes the SDK raises itself, never sent by a server: the request was refused before it was
 * made, or failed before an answer came.
 */
export const clientErrorCodes = {
  invalid_configuration: 'The options given to createClient or createTransport are invalid.',
  missing_service_key: 'A data or admin call was made on a client without a service key.',
  service_key_in_browser: 'A service key was configured in a browser-like runtime.',
  insecure_service_key_target: 'The service key would have gone to another origin or over cleartext HTTP.',
  invalid_request: 'The call’s input failed the route’s request schema; no request was made.',
  network_error: 'No answer: the connection failed, was refused or was cut.',
  request_timeout: 'No answer within the timeout.',
  aborted: 'The caller aborted the call with its AbortSignal.',
  invalid_response: 'The server answered, but not as the wire contract says.',
  unscoped_change: 'An update or delete had neither a where nor .all(); no request was made.',
  unexpected_row_count: '.single() got no row or several, or .maybeSingle() several; details.rows says how many.',
  invalid_row: 'A row did not pass the schema given to from(table, schema); details.row and details.field say where.',
  webhook_unverified:
    'verifyWebhook refused a delivery: a header missing or malformed, a timestamp out of tolerance, or no signature that matches; details.reason says which.',
  webhook_body_not_raw:
    'verifyWebhook was given a parsed object instead of the raw body; pass the body as the exact string or bytes received.',
} as const;

/** A code the SDK raises before or instead of a server answer. */
export type ClientErrorCode = keyof typeof clientErrorCodes;

/** Every stable error code. */
export type ErrorCode = ServerErrorCode | ClientErrorCode;

/**
 * The error family an HTTP status belongs to.
 *
 * @example
 * ```ts
 * errorKindForStatus(409); // 'conflict'
 * errorKindForStatus(502); // 'server'
 * ```
 */
export function errorKindForStatus(status: number): ErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404 || status === 405) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limit';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'server';
  if (status >= 400) return 'validation';
  return 'unknown';
}
