import { defineRoute } from '../route.js';
import type * as schemas from './webhooks.schemas.js';

// Webhooks out: endpoints that receive the server's events, signed as Standard Webhooks do, and
// the record of every delivery. Service key or an API key with the `admin` scope.

/** `POST /v1/admin/webhooks`: adds an endpoint; answers its signing secret, once. */
export const createWebhookEndpointRoute = /* @__PURE__ */ defineRoute<typeof schemas.createWebhookEndpointSchemas>()({
  name: 'admin.webhooks.create',
  method: 'POST',
  path: '/v1/admin/webhooks',
  auth: 'service',
  scope: 'admin',
  idempotent: true,
});

/** `GET /v1/admin/webhooks`: the endpoints, oldest first, a page at a time. */
export const listWebhookEndpointsRoute = /* @__PURE__ */ defineRoute<typeof schemas.listWebhookEndpointsSchemas>()({
  name: 'admin.webhooks.list',
  method: 'GET',
  path: '/v1/admin/webhooks',
  auth: 'service',
  scope: 'admin',
});

/** `GET /v1/admin/webhooks/:id`: one endpoint. */
export const getWebhookEndpointRoute = /* @__PURE__ */ defineRoute<typeof schemas.getWebhookEndpointSchemas>()({
  name: 'admin.webhooks.get',
  method: 'GET',
  path: '/v1/admin/webhooks/:id',
  auth: 'service',
  scope: 'admin',
});

/** `PATCH /v1/admin/webhooks/:id`: changes its URL, events, description or whether it is enabled. */
export const updateWebhookEndpointRoute = /* @__PURE__ */ defineRoute<typeof schemas.updateWebhookEndpointSchemas>()({
  name: 'admin.webhooks.update',
  method: 'PATCH',
  path: '/v1/admin/webhooks/:id',
  auth: 'service',
  scope: 'admin',
});

/** `DELETE /v1/admin/webhooks/:id`: removes an endpoint and its deliveries. */
export const deleteWebhookEndpointRoute = /* @__PURE__ */ defineRoute<typeof schemas.deleteWebhookEndpointSchemas>()({
  name: 'admin.webhooks.delete',
  method: 'DELETE',
  path: '/v1/admin/webhooks/:id',
  auth: 'service',
  scope: 'admin',
});

/** `POST /v1/admin/webhooks/:id/rotate-secret`: a new secret; the old one signs alongside for 24 h. */
export const rotateWebhookSecretRoute = /* @__PURE__ */ defineRoute<typeof schemas.rotateWebhookSecretSchemas>()({
  name: 'admin.webhooks.rotateSecret',
  method: 'POST',
  path: '/v1/admin/webhooks/:id/rotate-secret',
  auth: 'service',
  scope: 'admin',
});

/** `GET /v1/admin/webhooks/:id/deliveries`: an endpoint's deliveries, newest first. */
export const listWebhookDeliveriesRoute = /* @__PURE__ */ defineRoute<typeof schemas.listWebhookDeliveriesSchemas>()({
  name: 'admin.webhooks.listDeliveries',
  method: 'GET',
  path: '/v1/admin/webhooks/:id/deliveries',
  auth: 'service',
  scope: 'admin',
});

/** `GET /v1/admin/webhook-deliveries/:deliveryId`: one delivery and every attempt of it. */
export const getWebhookDeliveryRoute = /* @__PURE__ */ defineRoute<typeof schemas.getWebhookDeliverySchemas>()({
  name: 'admin.webhooks.getDelivery',
  method: 'GET',
  path: '/v1/admin/webhook-deliveries/:deliveryId',
  auth: 'service',
  scope: 'admin',
});

/** `POST /v1/admin/webhook-deliveries/:deliveryId/redeliver`: sends a delivery again, now. */
export const redeliverWebhookRoute = /* @__PURE__ */ defineRoute<typeof schemas.redeliverWebhookSchemas>()({
  name: 'admin.webhooks.redeliver',
  method: 'POST',
  path: '/v1/admin/webhook-deliveries/:deliveryId/redeliver',
  auth: 'service',
  scope: 'admin',
});
