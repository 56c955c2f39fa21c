import type { AdminClient } from '@plinth/admin';
import { ConfigurationError, type Transport } from '@plinth/core';
import { adminListUsersRoute, createTicketRoute } from '@plinth/protocol';
import type { AnyDatabase } from '@plinth/query';
import type { RealtimeClient } from '@plinth/realtime';
import { installBrowserDataMethods } from './browser-data-methods.js';
import { buildClient, type ClientOptions, type PlinthClient } from './create-client.js';
import { type ServerClientOptions, serverClientOptions } from './create-server-client.js';

/**
 * `createClient` as browser bundles get it (the `browser` export condition): auth and everything
 * else, without the data client's code. Data methods throw `MissingServiceKeyError`, as they do
 * in the full build on a client without a service key.
 *
 * @example
 * ```ts
 * import { createClient } from '@plinth/client'; // in a browser bundle
 * const plinth = createClient({ url: 'https://api.example.com', publishableKey: 'pk_...' });
 * await plinth.auth.signIn({ email, password });
 * ```
 */
export function createClient<DB = AnyDatabase>(options: ClientOptions): PlinthClient<DB> {
  return buildClient<DB>(options, installBrowserDataMethods, browserRealtimeClient, browserAdminClient);
}

/**
 * The browser build's `plinth.realtime`: none of realtime's code, which would otherwise ship
 * with every bundle that makes a client (about 3 kB gzipped), realtime or not. A browser
 * subscribes with the `subscribe` export, which a bundle carries only when it imports it; the
 * server's methods throw `MissingServiceKeyError` synchronously, as the full build's do without
 * a service key, and with one (`dangerouslyAllowBrowser`) a `ConfigurationError` naming the way
 * to the full client.
 *
 * @example
 * ```ts
 * buildClient(options, installBrowserDataMethods, browserRealtimeClient).realtime.subscribe(ticket, { onEvent });
 * // throws ConfigurationError: import { subscribe } from '@plinth/client' instead
 * ```
 */
function browserRealtimeClient(transport: Transport): RealtimeClient {
  const refuse = (method: keyof RealtimeClient) => () => {
    const caller = `realtime.${method}()`;
    // The server's methods refuse first as the full build's do, for the same mistake.
    if (method !== 'subscribe') transport.assertCallable(createTicketRoute, caller);
    throw new ConfigurationError(
      `${caller}: the browser build of @plinth/client leaves realtime's code out. To listen, import { subscribe } from '@plinth/client'; a trusted tool with dangerouslyAllowBrowser uses createRealtimeClient(plinth.transport) from @plinth/realtime.`,
      { code: 'invalid_configuration' },
    );
  };
  const client = {} as Record<keyof RealtimeClient, () => never>;
  for (const method of ['createTicket', 'broadcast', 'stream', 'subscribe'] as const) client[method] = refuse(method);
  return client;
}

/**
 * The browser build's `plinth.admin`: none of the admin client's code, which belongs on a server.
 * Every method of every group (`admin.users.list()`, `admin.webhooks.create()`, …) throws
 * `MissingServiceKeyError` synchronously, as the full build's do without a service key, and with
 * one (`dangerouslyAllowBrowser`) a `ConfigurationError` naming the way to the full client.
 *
 * @example
 * ```ts
 * buildClient(options, installBrowserDataMethods, browserRealtimeClient, browserAdminClient).admin.users.list();
 * // throws MissingServiceKeyError
 * ```
 */
function browserAdminClient(transport: Transport): AdminClient {
  const refuse = (caller: string) => () => {
    // Every admin route is a service route: any one of them refuses alike.
    transport.assertCallable(adminListUsersRoute, caller);
    throw new ConfigurationError(
      `${caller}: the browser build of @plinth/client leaves the admin client out. A trusted tool with dangerouslyAllowBrowser uses createAdminClient(plinth.transport) from @plinth/admin.`,
      { code: 'invalid_configuration' },
    );
  };
  // Not thenables, and nothing for inspection's symbols: only names are groups and methods.
  const named = <T>(make: (name: string) => T) =>
    new Proxy({}, { get: (_target, name) => (typeof name === 'symbol' || name === 'then' ? undefined : make(name)) });
  return named((group) => named((method) => refuse(`admin.${group}.${method}()`))) as AdminClient;
}

/**
 * `createServerClient` of the browser build (for completeness: it belongs on a server).
 *
 * @example
 * ```ts
 * const plinth = createServerClient({ url, publishableKey, cookies });
 * ```
 */
export function createServerClient<DB = AnyDatabase>(options: ServerClientOptions): PlinthClient<DB> {
  return createClient<DB>(serverClientOptions(options));
}
