import type { PublicUser } from '../accounts/public-user.js';
import type { ApiKeyIdentity } from '../keys/api-keys.js';
import type { TicketClaims } from '../realtime/tickets.js';

/**
 * Who made a request, as the route's auth guard established it. The app's server is a `service`
 * caller by the service key (every scope) or by a scoped API key (`apiKey` set: only its scopes).
 */
export type Caller =
  | { readonly kind: 'anonymous' }
  /** The holder of a URL the server signed (an upload's bytes); who it is, the grant says. */
  | { readonly kind: 'presigned' }
  /** The holder of a realtime ticket; what it may hear, its claims say. */
  | { readonly kind: 'ticket'; readonly claims: TicketClaims }
  | { readonly kind: 'service'; readonly apiKey?: ApiKeyIdentity }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly sessionId: string;
      /** The user's public record, read with the session check in the same query. */
      readonly profile?: PublicUser;
    };

/** A signed-in user. */
export type UserCaller = Extract<Caller, { kind: 'user' }>;
