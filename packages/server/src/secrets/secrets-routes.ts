import { deleteSecretRoute, getSecretRoute, listSecretsRoute, putSecretRoute } from '@plinth/protocol';
import { audit } from '../audit/audit-log.js';
import { defineHandler } from '../http/route-handler.js';

/**
 * `PUT /v1/admin/secrets/:name`: stores a value, encrypted under the current master key.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'secrets', handlers: [putSecretHandler] });
 * ```
 */
export const putSecretHandler = defineHandler(putSecretRoute, async ({ input, services, context }) => {
  const stored = await services.secrets.put(input.name, input.value);
  // The name only: a value never reaches the audit log.
  await audit(services.database, 'admin.secret_put', { context, details: { name: input.name } });
  return stored;
});

/**
 * `GET /v1/admin/secrets/:name`: the value, decrypted.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'secrets', handlers: [getSecretHandler] });
 * ```
 */
export const getSecretHandler = defineHandler(getSecretRoute, async ({ input, services }) =>
  services.secrets.get(input.name),
);

/**
 * `GET /v1/admin/secrets`: names and key versions, a page at a time.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'secrets', handlers: [listSecretsHandler] });
 * ```
 */
export const listSecretsHandler = defineHandler(listSecretsRoute, async ({ input, services }) =>
  services.secrets.list(input),
);

/**
 * `DELETE /v1/admin/secrets/:name`: removes a secret.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'secrets', handlers: [deleteSecretHandler] });
 * ```
 */
export const deleteSecretHandler = defineHandler(deleteSecretRoute, async ({ input, services, context }) => {
  const deleted = await services.secrets.remove(input.name);
  if (deleted) await audit(services.database, 'admin.secret_deleted', { context, details: { name: input.name } });
  return { deleted };
});
