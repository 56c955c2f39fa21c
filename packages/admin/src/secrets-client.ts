import { type CallOptions, callAs, type Transport } from '@plinth/core';
import { deleteSecretRoute, getSecretRoute, listSecretsRoute, putSecretRoute, type SecretInfo } from '@plinth/protocol';
import { definedOnly } from './defined-only.js';

/** One page request of `secrets.list`. */
export interface ListSecretsOptions {
  /** Only names that start with this (matched as written, `_` included). */
  prefix?: string | undefined;
  /** 1 to 1000; default 100. */
  limit?: number | undefined;
  /** The `nextCursor` of the previous page, unchanged. */
  cursor?: string | undefined;
}

/** `admin.secrets`: named values kept encrypted by Plinth. */
export interface AdminSecrets {
  /** Stores `value` under `name`, replacing any value before it; `created` says whether it is new. */
  put(name: string, value: string, callOptions?: CallOptions): Promise<{ secret: SecretInfo; created: boolean }>;
  /** The value of `name`; `NotFoundError` when there is none. */
  get(name: string, callOptions?: CallOptions): Promise<string>;
  /** Names and key versions, never values, in name order, a page at a time. */
  list(
    options?: ListSecretsOptions,
    callOptions?: CallOptions,
  ): Promise<{ secrets: SecretInfo[]; nextCursor: string | null }>;
  /** Removes `name`; false when there was none. */
  delete(name: string, callOptions?: CallOptions): Promise<boolean>;
}

/**
 * The secrets namespace of the admin client, over a transport with the service key (or an
 * `admin` API key). Every method throws `MissingServiceKeyError` synchronously, before any
 * request, on a transport without one.
 *
 * @example
 * ```ts
 * const secrets = createSecretsClient(createTransport({ url, serviceKey: process.env.PLINTH_SERVICE_KEY }));
 * await secrets.put('STRIPE_API_KEY', 'sk_live_…');
 * const stripeKey = await secrets.get('STRIPE_API_KEY');
 * ```
 */
export function createSecretsClient(transport: Transport): AdminSecrets {
  return {
    put: (name, value, callOptions) =>
      callAs(transport, putSecretRoute, 'admin.secrets.put()', { name, value }, callOptions),
    get: (name, callOptions) =>
      callAs(transport, getSecretRoute, 'admin.secrets.get()', { name }, callOptions).then((answer) => answer.value),
    list: (options = {}, callOptions) =>
      callAs(transport, listSecretsRoute, 'admin.secrets.list()', definedOnly(options), callOptions),
    delete: (name, callOptions) =>
      callAs(transport, deleteSecretRoute, 'admin.secrets.delete()', { name }, callOptions).then(
        (answer) => answer.deleted,
      ),
  };
}
