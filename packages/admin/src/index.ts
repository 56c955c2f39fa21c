/**
 * Plinth administration from your server: `createAdminClient` manages users, their sessions,
 * API keys and secrets with the service key; `verifyWebhook` checks that a delivery came from Plinth,
 * unchanged and recently, in any runtime.
 *
 * @packageDocumentation
 */

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
