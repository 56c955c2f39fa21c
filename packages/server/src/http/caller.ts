import type { PublicUser } from '../accounts/public-user.js';

/** Who made a request, as the route's auth guard established it. */
export type Caller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'service' }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly sessionId: string;
      /** The user's public record, read with the session check in the same query. */
      readonly profile?: PublicUser;
    };

/** A signed-in user. */
export type UserCaller = Extract<Caller, { kind: 'user' }>;
