import { type RouteWithSchemas, withSchemas } from './route.js';
import * as admin from './routes/admin.js';
import * as adminSchemas from './routes/admin.schemas.js';
import * as audit from './routes/audit.js';
import * as auditSchemas from './routes/audit.schemas.js';
import * as auth from './routes/auth.js';
import * as authSchemas from './routes/auth.schemas.js';
import * as data from './routes/data.js';
import * as dataSchemas from './routes/data.schemas.js';
import { healthRoute, livenessRoute } from './routes/health.js';
import { healthSchemas, livenessSchemas } from './routes/health.schemas.js';
import * as realtime from './routes/realtime.js';
import * as realtimeSchemas from './routes/realtime.schemas.js';
import * as secrets from './routes/secrets.js';
import * as secretsSchemas from './routes/secrets.schemas.js';
import * as storage from './routes/storage.js';
import * as storageSchemas from './routes/storage.schemas.js';
import * as webhooks from './routes/webhooks.js';
import * as webhooksSchemas from './routes/webhooks.schemas.js';

/**
 * Every route of the wire contract, each with its schemas. The server mounts exactly these;
 * nothing else defines a route. Order is the order `plinth routes` prints. (Imported only by the
 * server and by tools: it carries every schema, so browser code imports single routes instead.)
 */
export const routeTable = /* @__PURE__ */ Object.freeze([
  withSchemas(healthRoute, healthSchemas),
  withSchemas(livenessRoute, livenessSchemas),
  withSchemas(auth.signUpRoute, authSchemas.signUpSchemas),
  withSchemas(auth.signInRoute, authSchemas.signInSchemas),
  withSchemas(auth.signOutRoute, authSchemas.signOutSchemas),
  withSchemas(auth.getMeRoute, authSchemas.getMeSchemas),
  withSchemas(auth.refreshRoute, authSchemas.refreshSchemas),
  withSchemas(auth.signInWithMagicLinkRoute, authSchemas.signInWithMagicLinkSchemas),
  withSchemas(auth.verifyMagicLinkRoute, authSchemas.verifyMagicLinkSchemas),
  withSchemas(auth.signInWithOAuthRoute, authSchemas.signInWithOAuthSchemas),
  withSchemas(auth.oauthCallbackRoute, authSchemas.oauthCallbackSchemas),
  withSchemas(auth.exchangeCodeRoute, authSchemas.exchangeCodeSchemas),
  withSchemas(auth.updatePasswordRoute, authSchemas.updatePasswordSchemas),
  withSchemas(auth.resetPasswordRoute, authSchemas.resetPasswordSchemas),
  withSchemas(auth.confirmPasswordResetRoute, authSchemas.confirmPasswordResetSchemas),
  withSchemas(auth.verifyEmailRoute, authSchemas.verifyEmailSchemas),
  withSchemas(auth.listSessionsRoute, authSchemas.listSessionsSchemas),
  withSchemas(auth.revokeSessionRoute, authSchemas.revokeSessionSchemas),
  withSchemas(admin.adminListSessionsRoute, adminSchemas.adminListSessionsSchemas),
  withSchemas(admin.adminRevokeSessionRoute, adminSchemas.adminRevokeSessionSchemas),
  withSchemas(admin.adminRevokeAllSessionsRoute, adminSchemas.adminRevokeAllSessionsSchemas),
  withSchemas(admin.adminListUsersRoute, adminSchemas.adminListUsersSchemas),
  withSchemas(admin.adminGetUserRoute, adminSchemas.adminGetUserSchemas),
  withSchemas(admin.adminCreateUserRoute, adminSchemas.adminCreateUserSchemas),
  withSchemas(admin.adminInviteUserRoute, adminSchemas.adminInviteUserSchemas),
  withSchemas(admin.adminCreateSignInLinkRoute, adminSchemas.adminCreateSignInLinkSchemas),
  withSchemas(admin.adminUpdateUserRoute, adminSchemas.adminUpdateUserSchemas),
  withSchemas(admin.adminDeleteUserRoute, adminSchemas.adminDeleteUserSchemas),
  withSchemas(admin.adminCreateApiKeyRoute, adminSchemas.adminCreateApiKeySchemas),
  withSchemas(admin.adminListApiKeysRoute, adminSchemas.adminListApiKeysSchemas),
  withSchemas(admin.adminRevokeApiKeyRoute, adminSchemas.adminRevokeApiKeySchemas),
  withSchemas(data.queryRoute, dataSchemas.querySchemas),
  withSchemas(data.sqlRoute, dataSchemas.sqlSchemas),
  withSchemas(data.batchRoute, dataSchemas.batchSchemas),
  withSchemas(data.schemaRoute, dataSchemas.schemaSchemas),
  withSchemas(storage.createBucketRoute, storageSchemas.createBucketSchemas),
  withSchemas(storage.listBucketsRoute, storageSchemas.listBucketsSchemas),
  withSchemas(storage.createUploadUrlRoute, storageSchemas.createUploadUrlSchemas),
  withSchemas(storage.uploadRoute, storageSchemas.uploadSchemas),
  withSchemas(storage.completeUploadRoute, storageSchemas.completeUploadSchemas),
  withSchemas(storage.getObjectInfoRoute, storageSchemas.getObjectInfoSchemas),
  withSchemas(storage.removeObjectsRoute, storageSchemas.removeObjectsSchemas),
  withSchemas(storage.createDownloadUrlRoute, storageSchemas.createDownloadUrlSchemas),
  withSchemas(storage.downloadRoute, storageSchemas.downloadSchemas),
  withSchemas(storage.publicDownloadRoute, storageSchemas.publicDownloadSchemas),
  withSchemas(storage.listObjectsRoute, storageSchemas.listObjectsSchemas),
  withSchemas(storage.moveObjectRoute, storageSchemas.moveObjectSchemas),
  withSchemas(storage.copyObjectRoute, storageSchemas.copyObjectSchemas),
  withSchemas(storage.createMultipartUploadRoute, storageSchemas.createMultipartUploadSchemas),
  withSchemas(storage.uploadPartRoute, storageSchemas.uploadPartSchemas),
  withSchemas(storage.partUrlsRoute, storageSchemas.partUrlsSchemas),
  withSchemas(storage.listPartsRoute, storageSchemas.listPartsSchemas),
  withSchemas(storage.completeMultipartUploadRoute, storageSchemas.completeMultipartUploadSchemas),
  withSchemas(storage.abortMultipartUploadRoute, storageSchemas.abortMultipartUploadSchemas),
  withSchemas(realtime.createTicketRoute, realtimeSchemas.createTicketSchemas),
  withSchemas(realtime.broadcastRoute, realtimeSchemas.broadcastSchemas),
  withSchemas(realtime.streamRoute, realtimeSchemas.streamSchemas),
  withSchemas(secrets.putSecretRoute, secretsSchemas.putSecretSchemas),
  withSchemas(secrets.getSecretRoute, secretsSchemas.getSecretSchemas),
  withSchemas(secrets.listSecretsRoute, secretsSchemas.listSecretsSchemas),
  withSchemas(secrets.deleteSecretRoute, secretsSchemas.deleteSecretSchemas),
  withSchemas(webhooks.createWebhookEndpointRoute, webhooksSchemas.createWebhookEndpointSchemas),
  withSchemas(webhooks.listWebhookEndpointsRoute, webhooksSchemas.listWebhookEndpointsSchemas),
  withSchemas(webhooks.getWebhookEndpointRoute, webhooksSchemas.getWebhookEndpointSchemas),
  withSchemas(webhooks.updateWebhookEndpointRoute, webhooksSchemas.updateWebhookEndpointSchemas),
  withSchemas(webhooks.deleteWebhookEndpointRoute, webhooksSchemas.deleteWebhookEndpointSchemas),
  withSchemas(webhooks.rotateWebhookSecretRoute, webhooksSchemas.rotateWebhookSecretSchemas),
  withSchemas(webhooks.listWebhookDeliveriesRoute, webhooksSchemas.listWebhookDeliveriesSchemas),
  withSchemas(webhooks.getWebhookDeliveryRoute, webhooksSchemas.getWebhookDeliverySchemas),
  withSchemas(webhooks.redeliverWebhookRoute, webhooksSchemas.redeliverWebhookSchemas),
  withSchemas(audit.listAuditLogRoute, auditSchemas.listAuditLogSchemas),
] as const);

/**
 * The name of a route of the table (`'auth.signIn'`): what rate rules, logs and
 * `plinth routes` call it. A name that is not a route's does not compile.
 */
export type RouteName = (typeof routeTable)[number]['name'];

/**
 * The routes anyone may call (auth `none`), as `METHOD path` lines: the public attack surface,
 * which `plinth routes --public` prints and a test pins.
 *
 * @example
 * ```ts
 * auditRoutes(); // ['GET /v1/health', 'POST /v1/auth/sign-up', ...]
 * ```
 */
export function auditRoutes(
  routes: readonly Pick<RouteWithSchemas, 'auth' | 'method' | 'path'>[] = routeTable,
): string[] {
  return routes.filter((route) => route.auth === 'none').map((route) => `${route.method} ${route.path}`);
}
