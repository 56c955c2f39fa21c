/** Who made a request, as the route's auth guard established it. */
export type Caller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'service' }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly sessionId: string;
      /** The user's public record, read with the session check in the same query. */
      readonly profile?: UserProfile;
    };

/** A user's public record, as the auth routes show it. */
export interface UserProfile {
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly createdAt: string;
}

/** A signed-in user. */
export type UserCaller = Extract<Caller, { kind: 'user' }>;
