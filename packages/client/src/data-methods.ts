import type { Transport } from '@plinth/core';
import { createQueryClient, type QueryClient } from '@plinth/query';
import type { ClientOptions, PlinthClient } from './create-client.js';
import { defineLazyProperty } from './lazy-property.js';

/**
 * Puts the data methods (`from`, `sql`, `batch`, `as`) on a client, built on first read of any
 * of them. Building never throws: a client without a service key throws `MissingServiceKeyError`
 * when a data method is called.
 *
 * @example
 * ```ts
 * installDataMethods(client, transport, options);
 * await client.from('posts').select();
 * ```
 */
export function installDataMethods(
  client: PlinthClient<never>,
  transport: Transport,
  options: Pick<ClientOptions, 'secureCookies'> = {},
): void {
  let data: QueryClient<never> | undefined;
  const dataClient = () => {
    data ??= createQueryClient<never>(transport, { secureCookies: options.secureCookies });
    return data;
  };
  defineLazyProperty(client, 'from', () => dataClient().from);
  defineLazyProperty(client, 'sql', () => dataClient().sql);
  defineLazyProperty(client, 'batch', () => dataClient().batch);
  defineLazyProperty(client, 'as', () => dataClient().as);
}
