import {
  createWebhookEndpointRoute,
  deleteWebhookEndpointRoute,
  getWebhookDeliveryRoute,
  getWebhookEndpointRoute,
  listWebhookDeliveriesRoute,
  listWebhookEndpointsRoute,
  redeliverWebhookRoute,
  rotateWebhookSecretRoute,
  updateWebhookEndpointRoute,
} from '@plinth/protocol';
import { audit } from '../audit/audit-log.js';
import { defineHandler } from '../http/route-handler.js';

/**
 * `POST /v1/admin/webhooks`: adds an endpoint and answers its secret, this once.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [createWebhookEndpointHandler] });
 * ```
 */
export const createWebhookEndpointHandler = defineHandler(
  createWebhookEndpointRoute,
  async ({ input, services, context }) => {
    const created = await services.webhooks.createEndpoint(input);
    await audit(services.database, 'admin.webhook_created', {
      context,
      details: { id: created.endpoint.id, url: created.endpoint.url },
    });
    return created;
  },
);

/**
 * `GET /v1/admin/webhooks`: the endpoints, a page at a time.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [listWebhookEndpointsHandler] });
 * ```
 */
export const listWebhookEndpointsHandler = defineHandler(listWebhookEndpointsRoute, async ({ input, services }) =>
  services.webhooks.listEndpoints(input),
);

/**
 * `GET /v1/admin/webhooks/:id`: one endpoint.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [getWebhookEndpointHandler] });
 * ```
 */
export const getWebhookEndpointHandler = defineHandler(getWebhookEndpointRoute, async ({ input, services }) => ({
  endpoint: await services.webhooks.getEndpoint(input.id),
}));

/**
 * `PATCH /v1/admin/webhooks/:id`: changes an endpoint.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [updateWebhookEndpointHandler] });
 * ```
 */
export const updateWebhookEndpointHandler = defineHandler(
  updateWebhookEndpointRoute,
  async ({ input, services, context }) => {
    const { id, ...change } = input;
    const endpoint = await services.webhooks.updateEndpoint(id, change);
    await audit(services.database, 'admin.webhook_updated', {
      context,
      details: { id, changed: Object.keys(change).filter((key) => change[key as keyof typeof change] !== undefined) },
    });
    return { endpoint };
  },
);

/**
 * `DELETE /v1/admin/webhooks/:id`: removes an endpoint and its deliveries.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [deleteWebhookEndpointHandler] });
 * ```
 */
export const deleteWebhookEndpointHandler = defineHandler(
  deleteWebhookEndpointRoute,
  async ({ input, services, context }) => {
    const deleted = await services.webhooks.deleteEndpoint(input.id);
    if (deleted) await audit(services.database, 'admin.webhook_deleted', { context, details: { id: input.id } });
    return { deleted };
  },
);

/**
 * `POST /v1/admin/webhooks/:id/rotate-secret`: a new secret; the old one signs alongside for 24 h.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [rotateWebhookSecretHandler] });
 * ```
 */
export const rotateWebhookSecretHandler = defineHandler(
  rotateWebhookSecretRoute,
  async ({ input, services, context }) => {
    const rotated = await services.webhooks.rotateSecret(input.id);
    // The endpoint only: a secret never reaches the audit log.
    await audit(services.database, 'admin.webhook_secret_rotated', { context, details: { id: input.id } });
    return rotated;
  },
);

/**
 * `GET /v1/admin/webhooks/:id/deliveries`: an endpoint's deliveries, newest first.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [listWebhookDeliveriesHandler] });
 * ```
 */
export const listWebhookDeliveriesHandler = defineHandler(listWebhookDeliveriesRoute, async ({ input, services }) => {
  const { id, ...page } = input;
  return services.webhooks.listDeliveries(id, page);
});

/**
 * `GET /v1/admin/webhook-deliveries/:deliveryId`: a delivery and its attempts.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [getWebhookDeliveryHandler] });
 * ```
 */
export const getWebhookDeliveryHandler = defineHandler(getWebhookDeliveryRoute, async ({ input, services }) =>
  services.webhooks.getDelivery(input.deliveryId),
);

/**
 * `POST /v1/admin/webhook-deliveries/:deliveryId/redeliver`: sends a delivery again, now.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'webhooks', handlers: [redeliverWebhookHandler] });
 * ```
 */
export const redeliverWebhookHandler = defineHandler(redeliverWebhookRoute, async ({ input, services, context }) => {
  const delivery = await services.webhooks.redeliver(input.deliveryId);
  await audit(services.database, 'admin.webhook_redelivered', { context, details: { id: input.deliveryId } });
  return { delivery };
});
