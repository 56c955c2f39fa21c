import type { AnyDatabase } from '@plinth/query';
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
  return buildClient<DB>(options, installBrowserDataMethods);
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
