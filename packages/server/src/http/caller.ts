/** Who made a request, as the route's auth guard established it. */
export type Caller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'service' }
  | { readonly kind: 'user'; readonly userId: string; readonly sessionId: string };

/** A signed-in user. */
export type UserCaller = Extract<Caller, { kind: 'user' }>;
