import { type AuthClient, type AuthOptions, authMode, createAuthClient } from '@plinth/auth';
import { type CallOptions, createTransport, type Transport, type TransportOptions } from '@plinth/core';
import { healthRoute, type RouteOutput } from '@plinth/protocol';
import { defineLazyProperty } from './lazy-property.js';

/** Options of {@link createClient}: where the server is, and the keys this client holds. */
export interface ClientOptions extends TransportOptions {
  /** The app's publishable key (`pk_...`). Safe in browsers. */
  publishableKey: string;
  /**
   * How `auth` holds the session. By default cookie mode in browsers (an HttpOnly cookie; the
   * SDK holds no token) and token mode elsewhere; `mode` forces either.
   */
  auth?: AuthOptions | undefined;
}

/** The server's answer to a health check. */
export type Health = RouteOutput<typeof healthRoute>;

/**
 * The Plinth SDK. Sub-clients (auth, data, storage, realtime, admin) are built on first use,
 * all over one transport.
 */
export interface PlinthClient {
  /** The transport every sub-client shares. */
  readonly transport: Transport;
  /** Sign-up, sign-in, sessions. Built the first time it is read. */
  readonly auth: AuthClient;
  /** Whether the server and its database answer. */
  health(options?: CallOptions): Promise<Health>;
}

/**
 * Creates a Plinth client. In a browser, give it only the publishable key; on your server, add
 * the service key to unlock data and admin calls.
 *
 * @example
 * ```ts
 * import { createClient } from '@plinth/client';
 *
 * const plinth = createClient({ url: 'https://api.example.com', publishableKey: 'pk_...' });
 * await plinth.auth.signIn({ email, password });
 * ```
 */
export function createClient(options: ClientOptions): PlinthClient {
  const transport = createTransport(options);
  // Checked now, so a refused combination fails where the client is made, not at first use.
  authMode(options.auth);
  const client = {
    transport,
    health: (callOptions?: CallOptions) => transport.call(healthRoute, {}, callOptions),
  } as PlinthClient;
  defineLazyProperty(client, 'auth', () => createAuthClient(transport, options.auth));
  return client;
}
