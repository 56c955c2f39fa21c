import type { TokenSession, User } from '@plinth/protocol';

/** What changed: a sign-in, a sign-out, a refreshed session, or a changed user. */
export type AuthChangeEvent = 'SIGNED_IN' | 'SIGNED_OUT' | 'TOKEN_REFRESHED' | 'USER_UPDATED';

/** Who is signed in. `session` holds the tokens in token mode; in cookie mode it is always `null`. */
export interface AuthState {
  readonly user: User | null;
  readonly session: TokenSession | null;
}

/** Called on every change of the auth state, synchronously, in the order of subscription. */
export type AuthStateListener = (event: AuthChangeEvent, state: AuthState) => void;

/** The listeners of one auth client. */
export interface AuthEvents {
  subscribe(listener: AuthStateListener): () => void;
  emit(event: AuthChangeEvent, state: AuthState): void;
}

/**
 * A list of auth state listeners. Each subscription is its own entry, so subscribing one
 * function twice calls it twice and each unsubscribe removes one.
 *
 * @example
 * ```ts
 * const events = createAuthEvents();
 * const stop = events.subscribe((event, { user }) => console.log(event, user?.email));
 * events.emit('SIGNED_IN', { user, session: null });
 * stop();
 * ```
 */
export function createAuthEvents(): AuthEvents {
  const listeners = new Set<AuthStateListener>();
  return {
    subscribe(listener) {
      const entry: AuthStateListener = (event, state) => listener(event, state);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    emit(event, state) {
      // A copy: a listener that subscribes another during the loop does not get this event.
      for (const listener of [...listeners]) {
        try {
          listener(event, state);
        } catch (error) {
          // As EventTarget does: the change has happened, so one failing listener neither stops
          // the others nor fails the sign-in; its error is reported (uncaught) instead of lost.
          setTimeout(() => {
            throw error;
          });
        }
      }
    },
  };
}
