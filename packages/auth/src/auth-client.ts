import {
  AuthError,
  type CallOptions,
  ConfigurationError,
  isBrowserLike,
  isPlinthError,
  ProtocolError,
  type Transport,
} from '@plinth/core';
import {
  confirmPasswordResetRoute,
  exchangeCodeRoute,
  getMeRoute,
  listSessionsRoute,
  type RouteInput,
  type RouteOutput,
  refreshRoute,
  resetPasswordRoute,
  revokeSessionRoute,
  type SessionInfo,
  type SignedIn,
  signInRoute,
  signInWithMagicLinkRoute,
  signInWithOAuthRoute,
  signOutRoute,
  signUpRoute,
  type TokenSession,
  type User,
  updatePasswordRoute,
  verifyEmailRoute,
  verifyMagicLinkRoute,
} from '@plinth/protocol';
import { type AuthChangeEvent, type AuthState, type AuthStateListener, createAuthEvents } from './auth-events.js';
import { cookieOf, type IncomingHeaders } from './cookie-forwarding.js';
import { codeChallenge, randomToken } from './pkce.js';
import { singleFlight } from './refresh-single-flight.js';
import { memoryStore, type SessionStore, sessionStorageStore } from './session-store.js';
import { openTabSync } from './tab-sync.js';

/**
 * How the session is held. `cookie`: the server sets an HttpOnly cookie and the SDK holds no
 * token (browsers). `token`: the SDK keeps an access and a refresh token in its store and sends
 * the access token on each session call (servers, CLIs, native apps).
 */
export type AuthMode = 'cookie' | 'token';

/** Options of {@link createAuthClient}. */
export interface AuthOptions {
  /** Default: `cookie` in a browser-like runtime, `token` elsewhere. */
  mode?: AuthMode | undefined;
  /**
   * Where to keep the session (token mode) and an OAuth sign-in in progress. Default:
   * {@link memoryStore} in token mode; in cookie mode {@link sessionStorageStore} where the
   * browser has it (the PKCE verifier must survive the redirect), else memory.
   */
  store?: SessionStore | undefined;
  /** Prefix of the store's keys and name of the tabs' channel. Default `plinth.auth`. */
  storageKey?: string | undefined;
  /**
   * Announce sign-in, sign-out and refresh to other tabs over `BroadcastChannel`. Default: in
   * browser-like runtimes only; on a server, clients in one process are different users.
   */
  tabSync?: boolean | undefined;
}

/** Per-call options of the auth methods. */
export type AuthCallOptions = Pick<CallOptions, 'signal' | 'timeout'>;

type Input<R extends typeof signInRoute | typeof verifyMagicLinkRoute> = Omit<RouteInput<R>, 'mode'>;

/** The auth client: sign-up, sign-in, sessions and their changes. */
export interface AuthClient {
  readonly mode: AuthMode;
  /** Creates an account; the server emails a verification link. Answers the same whether or not the email is taken. */
  signUp(input: RouteInput<typeof signUpRoute>, options?: AuthCallOptions): Promise<RouteOutput<typeof signUpRoute>>;
  /** Signs in with email and password. */
  signIn(input: Input<typeof signInRoute>, options?: AuthCallOptions): Promise<SignedIn>;
  /** Emails a single-use sign-in link that leads to `redirectTo`. */
  signInWithMagicLink(
    input: RouteInput<typeof signInWithMagicLinkRoute>,
    options?: AuthCallOptions,
  ): Promise<RouteOutput<typeof signInWithMagicLinkRoute>>;
  /** Signs in with the token from a magic link. */
  verifyMagicLink(input: Input<typeof verifyMagicLinkRoute>, options?: AuthCallOptions): Promise<SignedIn>;
  /**
   * Starts an OAuth sign-in and returns the URL to navigate to. Keeps a fresh PKCE (S256)
   * verifier and `state` in the store; the provider comes back to `redirectTo` with `code` and
   * `state`, for {@link AuthClient.exchangeCode}.
   */
  signInWithOAuth(input: { provider: string; redirectTo: string }): Promise<string>;
  /** Finishes an OAuth sign-in: checks `state`, and trades the code and the stored verifier for a session. */
  exchangeCode(input: { code: string; state: string }, options?: AuthCallOptions): Promise<SignedIn>;
  /**
   * Signs out this session (`local`, the default), every other session of the user (`others`),
   * or all of them (`global`). Other tabs sign out with this one.
   */
  signOut(input?: RouteInput<typeof signOutRoute>, options?: AuthCallOptions): Promise<void>;
  /**
   * The signed-in user, or `null` when no one is signed in. With `headers` (on a server), the
   * user of that incoming request, by its forwarded `Cookie`; this client's own state is untouched.
   */
  getMe(options?: AuthCallOptions & { headers?: IncomingHeaders | undefined }): Promise<User | null>;
  /** The state as this client knows it, without a request. */
  getSession(): Promise<AuthState>;
  /** Trades the refresh token (or cookie) for a new session. Concurrent calls share one request. */
  refresh(): Promise<SignedIn>;
  /** Changes the password; the server revokes the user's other sessions. */
  updatePassword(
    input: RouteInput<typeof updatePasswordRoute>,
    options?: AuthCallOptions,
  ): Promise<RouteOutput<typeof updatePasswordRoute>>;
  /** Emails a password-reset link, if the account exists (the answer does not say). */
  resetPassword(
    input: RouteInput<typeof resetPasswordRoute>,
    options?: AuthCallOptions,
  ): Promise<RouteOutput<typeof resetPasswordRoute>>;
  /** Sets a new password with the token from a reset link. */
  confirmPasswordReset(
    input: RouteInput<typeof confirmPasswordResetRoute>,
    options?: AuthCallOptions,
  ): Promise<RouteOutput<typeof confirmPasswordResetRoute>>;
  /** Confirms the email address with the token from a verification link. */
  verifyEmail(
    input: RouteInput<typeof verifyEmailRoute>,
    options?: AuthCallOptions,
  ): Promise<RouteOutput<typeof verifyEmailRoute>>;
  /** The signed-in user's active sessions (devices), the current one marked. */
  listSessions(options?: AuthCallOptions): Promise<SessionInfo[]>;
  /** Ends one of the signed-in user's sessions, e.g. a lost device's; `false` if it was not theirs or already ended. */
  revokeSession(id: string, options?: AuthCallOptions): Promise<boolean>;
  /** Calls `listener` on every change, synchronously; returns the function that unsubscribes it. */
  onAuthStateChange(listener: AuthStateListener): () => void;
}

/**
 * The mode {@link createAuthClient} will use with these options; throws `ConfigurationError` for
 * a combination it refuses. Cheap and side-effect free, so an umbrella client can check its
 * options at once and still build the auth client lazily.
 *
 * @example
 * ```ts
 * authMode({}); // 'cookie' in a browser, 'token' elsewhere
 * authMode({ mode: 'cookie', store: localStorageStore() }); // throws ConfigurationError
 * ```
 */
export function authMode({ mode = isBrowserLike() ? 'cookie' : 'token', store }: AuthOptions = {}): AuthMode {
  if (mode === 'cookie' && store?.kind === 'localStorage') {
    throw new ConfigurationError(
      "localStorageStore() cannot be used in cookie mode: the session is an HttpOnly cookie, and no token may sit where any script can read it. Drop `store`, or use mode: 'token' (outside browsers).",
      { code: 'invalid_configuration' },
    );
  }
  return mode;
}

const is401 = (error: unknown) => isPlinthError(error) && error.status === 401;

// transport.call's rest-args typing cannot be satisfied for a generic route; this is the same call.
type Call = <
  R extends
    | typeof getMeRoute
    | typeof signOutRoute
    | typeof updatePasswordRoute
    | typeof listSessionsRoute
    | typeof revokeSessionRoute,
>(
  route: R,
  input: RouteInput<R>,
  options?: CallOptions,
) => Promise<RouteOutput<R>>;

/**
 * Creates the auth client over a transport. Apps normally read `plinth.auth` from `createClient`
 * instead, which builds this on first use.
 *
 * @example
 * ```ts
 * import { createAuthClient } from '@plinth/auth';
 * import { createTransport } from '@plinth/core';
 *
 * const auth = createAuthClient(createTransport({ url, publishableKey: 'pk_...' }));
 * auth.onAuthStateChange((event, { user }) => console.log(event, user?.email));
 * await auth.signIn({ email: 'ada@example.com', password });
 * ```
 */
export function createAuthClient(transport: Transport, options: AuthOptions = {}): AuthClient {
  const mode = authMode(options);
  const token = mode === 'token';
  const key = options.storageKey ?? 'plinth.auth';
  const sessionKey = `${key}.session`;
  const oauthKey = `${key}.oauth`;
  const store = options.store ?? defaultStore(token);
  const events = createAuthEvents();
  const call = transport.call as Call;
  let user: User | null = null;
  let session: TokenSession | null = null;
  // Counts changes of the state, so a failed call can tell whether the session changed meanwhile.
  let version = 0;

  // Only token mode persists the session; in cookie mode the cookie is the session and the store
  // never holds more than an OAuth sign-in in progress. Unreadable data counts as signed out.
  const ready = Promise.resolve(token ? store.get(sessionKey) : null)
    .then((saved) => {
      if (saved) ({ user, session } = JSON.parse(saved) as AuthState);
    })
    .catch(() => {});

  const post =
    (options.tabSync ?? isBrowserLike())
      ? openTabSync(key, (message) => void apply(message.event, message.user, message.session, true))
      : undefined;

  async function apply(
    event: AuthChangeEvent,
    nextUser: User | null,
    nextSession: TokenSession | null,
    fromTab = false,
  ) {
    await ready;
    // A SIGNED_OUT that changes nothing (a refresh refused while already signed out) is no event.
    if (!nextUser && !user && !session) return;
    // The first user this client learns of is a sign-in, however it learned it (in cookie mode
    // after a reload: from getMe, a refresh, or another tab).
    if (!user && nextUser) event = 'SIGNED_IN';
    user = nextUser;
    session = token ? nextSession : null;
    version++;
    events.emit(event, { user, session });
    if (!fromTab) post?.({ event, user, session });
    if (token) await (user ? store.set(sessionKey, JSON.stringify({ user, session })) : store.remove(sessionKey));
  }

  async function signedIn(event: AuthChangeEvent, answer: SignedIn): Promise<SignedIn> {
    if (token && !answer.session) {
      throw new ProtocolError(
        'The server signed in without returning tokens, but this client is in token mode. Is the server configured for cookie sessions only?',
        { code: 'invalid_response' },
      );
    }
    await apply(event, answer.user, answer.session);
    return { user: answer.user, session: token ? answer.session : null };
  }

  const refresh = singleFlight(async () => {
    await ready;
    if (token && !session) {
      throw new AuthError('refresh() needs a session, and no one is signed in: sign in first.', {
        code: 'unauthenticated',
      });
    }
    try {
      return await signedIn(
        'TOKEN_REFRESHED',
        await transport.call(refreshRoute, { refreshToken: session?.refreshToken, mode }),
      );
    } catch (error) {
      // The refresh token (or cookie) was refused: expired, revoked or reused. The session is over.
      if (is401(error)) await apply('SIGNED_OUT', null, null);
      throw error;
    }
  });

  /**
   * A `session` route: in token mode with the access token. A 401 leads to one refresh and one
   * replay, never more; replaying is safe because a 401 means the server did nothing. When the
   * state changed while the call was out (another tab refreshed, or a concurrent call did), the
   * replay uses the new session without refreshing again.
   */
  async function sessionCall<R extends Parameters<Call>[0]>(
    route: R,
    input: RouteInput<R>,
    callOptions?: AuthCallOptions,
  ): Promise<RouteOutput<R>> {
    await ready;
    const sent = version;
    try {
      return await call(route, input, { ...callOptions, accessToken: session?.accessToken });
    } catch (error) {
      if (!is401(error) || (token && !session)) throw error;
      if (version === sent) await refresh();
      return call(route, input, { ...callOptions, accessToken: session?.accessToken });
    }
  }

  return {
    mode,
    signUp: (input, callOptions) => transport.call(signUpRoute, input, callOptions),
    signIn: async (input, callOptions) =>
      signedIn('SIGNED_IN', await transport.call(signInRoute, { ...input, mode }, callOptions)),
    signInWithMagicLink: (input, callOptions) => transport.call(signInWithMagicLinkRoute, input, callOptions),
    verifyMagicLink: async (input, callOptions) =>
      signedIn('SIGNED_IN', await transport.call(verifyMagicLinkRoute, { ...input, mode }, callOptions)),

    async signInWithOAuth({ provider, redirectTo }) {
      const verifier = randomToken();
      const state = randomToken();
      const query = new URLSearchParams({
        redirectTo,
        codeChallenge: await codeChallenge(verifier),
        codeChallengeMethod: 'S256',
        state,
      });
      // Neither base64url string contains '.', so one entry holds both.
      await store.set(oauthKey, `${state}.${verifier}`);
      // Built from the route, never fetched: the browser navigates there and the server redirects.
      return `${transport.url}${signInWithOAuthRoute.path.replace(':provider', encodeURIComponent(provider))}?${query}`;
    },

    async exchangeCode({ code, state }, callOptions) {
      const saved = await store.get(oauthKey);
      try {
        const [savedState, codeVerifier] = saved?.split('.') ?? [];
        // `state` ties the callback to a sign-in this browser started: without the check, an
        // attacker could sign the user in to the attacker's account (login CSRF).
        if (!codeVerifier || savedState !== state) {
          throw new AuthError(
            'exchangeCode(): the `state` does not match an OAuth sign-in started here, so the code was not used. Start again with signInWithOAuth() in this browser tab.',
            { code: 'invalid_credentials' },
          );
        }
        return await signedIn(
          'SIGNED_IN',
          await transport.call(exchangeCodeRoute, { code, codeVerifier, mode }, callOptions),
        );
      } finally {
        // Single use, whatever the outcome: a replayed callback finds nothing to exchange.
        await store.remove(oauthKey);
      }
    },

    async signOut(input = {}, callOptions) {
      try {
        await sessionCall(signOutRoute, input, callOptions);
      } catch (error) {
        // A 401 means the server holds no session for us: already signed out there. Any other
        // error leaves the session alive on the server, so the local state stays as it is too.
        if (!is401(error)) throw error;
      }
      if (input.scope !== 'others') await apply('SIGNED_OUT', null, null);
    },

    async getMe({ headers, ...callOptions } = {}) {
      try {
        if (headers) {
          const cookie = cookieOf(headers);
          return (await call(getMeRoute, {}, { ...callOptions, headers: cookie ? { cookie } : {} })).user;
        }
        const me = (await sessionCall(getMeRoute, {}, callOptions)).user;
        if (JSON.stringify(me) !== JSON.stringify(user)) await apply('USER_UPDATED', me, session);
        return me;
      } catch (error) {
        // Not being signed in is an answer, not a failure.
        if (is401(error)) return null;
        throw error;
      }
    },

    async getSession() {
      await ready;
      return { user, session };
    },
    refresh,

    async updatePassword(input, callOptions) {
      const answer = await sessionCall(updatePasswordRoute, input, callOptions);
      await apply('USER_UPDATED', user, session);
      return answer;
    },
    resetPassword: (input, callOptions) => transport.call(resetPasswordRoute, input, callOptions),
    confirmPasswordReset: (input, callOptions) => transport.call(confirmPasswordResetRoute, input, callOptions),
    verifyEmail: (input, callOptions) => transport.call(verifyEmailRoute, input, callOptions),
    listSessions: async (callOptions) => (await sessionCall(listSessionsRoute, {}, callOptions)).sessions,
    revokeSession: async (id, callOptions) => (await sessionCall(revokeSessionRoute, { id }, callOptions)).revoked,
    onAuthStateChange: events.subscribe,
  };
}

function defaultStore(token: boolean): SessionStore {
  if (!token) {
    try {
      return sessionStorageStore();
    } catch {
      // No sessionStorage (a server, a worker): memory it is.
    }
  }
  return memoryStore();
}
