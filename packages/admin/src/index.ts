/**
 * Plinth administration from your server. This first part receives webhooks: `verifyWebhook`
 * checks that a delivery came from Plinth, unchanged and recently, in any runtime.
 *
 * @packageDocumentation
 */

export {
  type RawWebhookBody,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  type WebhookRefusal,
  WebhookVerificationError,
} from './verify-webhook.js';
