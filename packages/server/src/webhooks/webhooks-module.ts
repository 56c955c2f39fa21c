import { defineFeatureModule, type ServiceContext } from '../feature-module.js';
import {
  createWebhookEndpointHandler,
  deleteWebhookEndpointHandler,
  getWebhookDeliveryHandler,
  getWebhookEndpointHandler,
  listWebhookDeliveriesHandler,
  listWebhookEndpointsHandler,
  redeliverWebhookHandler,
  rotateWebhookSecretHandler,
  updateWebhookEndpointHandler,
} from './webhooks-routes.js';
import { createWebhooksService, type WebhooksService } from './webhooks-service.js';

async function createWebhooksServices({ database, logger, settings }: ServiceContext): Promise<WebhooksService> {
  return createWebhooksService({ database, logger, options: settings.webhooks ?? {} });
}

/**
 * Webhooks out: endpoints that take the durable log's events (users, sessions, storage objects,
 * row changes), signed as Standard Webhooks do and retried on a schedule, every attempt kept.
 * Service key or an `admin` API key. `services.webhooks` is the service, which also runs the
 * sending loop on every instance.
 */
export const webhooksModule = defineFeatureModule({
  name: 'webhooks',
  handlers: [
    createWebhookEndpointHandler,
    listWebhookEndpointsHandler,
    getWebhookEndpointHandler,
    updateWebhookEndpointHandler,
    deleteWebhookEndpointHandler,
    rotateWebhookSecretHandler,
    listWebhookDeliveriesHandler,
    getWebhookDeliveryHandler,
    redeliverWebhookHandler,
  ],
  createServices: createWebhooksServices,
});
