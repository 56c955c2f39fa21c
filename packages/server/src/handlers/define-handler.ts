import type { Route, RouteOutput } from '@plinth/protocol';
import type { Logger } from 'pino';
import type * as z from 'zod/mini';
import type { PasswordHasher } from '../auth/password-hasher.js';
import type { DataService } from '../data/data-service.js';
import type { Database } from '../database/database.js';
import type { Caller } from '../http/caller.js';
import type { IdempotencyScope } from '../idempotency/idempotency.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Mailer } from '../mail/mailer.js';
import type { OAuthService } from '../oauth/oauth-service.js';
import type { RateRules } from '../rate-limit/rate-limit-rules.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { CookieSettings } from '../sessions/session-cookies.js';
import type { SessionService } from '../sessions/session-service.js';

/** What the auth handlers use. */
export interface AuthServices {
  readonly sessions: SessionService;
  readonly passwords: PasswordHasher;
  readonly mailer: Mailer;
  readonly cookies: CookieSettings;
  /** App origins: CORS, CSRF and where email links may point. */
  readonly appOrigins: readonly string[];
  /** OAuth sign-in: the configured providers, the redirect allow-list, the calls to providers. */
  readonly oauth: OAuthService;
}

/** What every handler may use: the server's shared services. */
export interface ServerServices {
  readonly database: Database;
  readonly keys: KeyRing;
  readonly logger: Logger;
  readonly version: string;
  readonly auth: AuthServices;
  /** Where rate-limit buckets live: memory, or Redis shared by every instance. */
  readonly rateLimiter: RateLimiter;
  /** The rate rules in force: the defaults with the configured overrides laid over them. */
  readonly rateRules: RateRules;
  /** The data API: introspected schema, query compiler, statements run as the acting role. */
  readonly data: DataService;
}

/** The validated input of a route, after its schema's defaults and transforms. */
export type ParsedInput<R extends Route> = R extends Route<infer S> ? z.output<S['request']> : never;

/** What a handler receives. */
export interface HandlerContext<R extends Route> {
  readonly input: ParsedInput<R>;
  readonly caller: Caller;
  readonly request: Request;
  readonly requestId: string;
  readonly services: ServerServices;
  /**
   * Set on an `idempotent` route called with an `Idempotency-Key` (claimed, not a replay). A data
   * write records its answer in its own transaction with it; otherwise the app records the answer.
   */
  readonly idempotency?: IdempotencyScope;
}

/** A route's handler: its typed output, or a whole `Response` (redirects, cookies). */
export interface RouteHandler<R extends Route = Route> {
  readonly route: R;
  handle(context: HandlerContext<R>): Promise<RouteOutput<R> | Response>;
}

/**
 * Declares the handler of a route from @plinth/protocol. Input and output are typed by the
 * route's schemas; the app validates the input (and its API-key scopes) before, and (in tests)
 * the output after.
 *
 * @example
 * ```ts
 * export const healthHandler = defineHandler(healthRoute, async ({ services }) => ({ status: 'ok', ... }));
 * ```
 */
export function defineHandler<R extends Route>(
  route: R,
  handle: (context: HandlerContext<R>) => Promise<RouteOutput<R> | Response>,
): RouteHandler<R> {
  return { route, handle };
}
