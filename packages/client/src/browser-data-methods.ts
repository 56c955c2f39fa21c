import { ConfigurationError, type Transport } from '@plinth/core';
import { batchRoute, queryRoute, type Route, sqlRoute } from '@plinth/protocol';
import type { PlinthClient } from './create-client.js';

/**
 * The browser build's data methods: no data code ships to browsers, where no data call can run
 * (there is no service key). Each throws `MissingServiceKeyError` synchronously, as the full
 * build does; with a service key (`dangerouslyAllowBrowser`), a `ConfigurationError` that says
 * how to get the data client in a browser build.
 *
 * @example
 * ```ts
 * installBrowserDataMethods(client, transport);
 * client.from('posts'); // throws MissingServiceKeyError
 * ```
 */
export function installBrowserDataMethods(client: PlinthClient<never>, transport: Transport): void {
  const refuse = (route: Route, caller: string) => () => {
    transport.assertCallable(route, caller);
    throw new ConfigurationError(
      `${caller}: the browser build of @plinth/client leaves the data client out. For a trusted tool with dangerouslyAllowBrowser, use createQueryClient(plinth.transport) from @plinth/query.`,
      { code: 'invalid_configuration' },
    );
  };
  Object.assign(client, {
    from: refuse(queryRoute, 'from()'),
    sql: refuse(sqlRoute, 'sql``'),
    batch: refuse(batchRoute, 'batch()'),
    as: refuse(queryRoute, 'as()'),
  });
}
