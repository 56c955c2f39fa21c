/**
 * Plinth administration from your server: `createAdminClient` manages users, their sessions,
 * API keys, secrets and webhook endpoints with the service key; `verifyWebhook` checks that a
 * delivery came from Plinth, unchanged and recently, in any runtime.
 *
 * @packageDocumentation
 */

// The shapes `admin.webhooks` and `admin.audit` answer with and the event types webhooks take, so
// a receiver or a script needs no import from @plinth/protocol.
export {
  type AuditActorType,
  type AuditEntry,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
  webhookEventTypes,
} from '@plinth/protocol';
export {
  type AdminApiKeys,
  type AdminClient,
  type AdminSessions,
  type AdminUsers,
  type CreateApiKeyOptions,
  type CreateUserOptions,
  createAdminClient,
  type ListUsersFilters,
  type ListUsersOptions,
  type UpdateUserOptions,
  type UsersPage,
} from './admin-client.js';
export {
  type AdminAudit,
  type AuditLogFilters,
  type AuditLogPage,
  createAuditClient,
  type ListAuditLogOptions,
} from './audit-client.js';
export { type AdminSecrets, createSecretsClient, type ListSecretsOptions } from './secrets-client.js';
export {
  type RawWebhookBody,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  type WebhookRefusal,
  WebhookVerificationError,
} from './verify-webhook.js';
export type { AdminWebhooks } from './webhooks-client.js';
