import { type CallOptions, createTransport, type Transport, type TransportOptions } from '@plinth/core';
import { healthRoute, type RouteOutput } from '@plinth/protocol';

/** Options of {@link createClient}: where the server is, and the keys this client holds. */
export interface ClientOptions extends TransportOptions {
  /** The app's publishable key (`pk_...`). Safe in browsers. */
  publishableKey: string;
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
 * const { status } = await plinth.health();
 * ```
 */
export function createClient(options: ClientOptions): PlinthClient {
  const transport = createTransport(options);
  return {
    transport,
    health: (callOptions) => transport.call(healthRoute, {}, callOptions),
  };
}
