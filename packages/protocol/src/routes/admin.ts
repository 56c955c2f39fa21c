import { defineRoute } from '../route.js';
import type * as schemas from './admin.schemas.js';

// Administration runs on the app's server with the service key (or an API key with the `admin`
// scope), never in a browser.

/** `GET /v1/admin/users/:userId/sessions`: a user's active sessions, newest first. */
export const adminListSessionsRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminListSessionsSchemas>()({
  name: 'admin.listSessions',
  method: 'GET',
  path: '/v1/admin/users/:userId/sessions',
  auth: 'service',
  scope: 'admin',
});

/** `DELETE /v1/admin/users/:userId/sessions/:id`: ends one of a user's sessions. */
export const adminRevokeSessionRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminRevokeSessionSchemas>()({
  name: 'admin.revokeSession',
  method: 'DELETE',
  path: '/v1/admin/users/:userId/sessions/:id',
  auth: 'service',
  scope: 'admin',
});

/** `DELETE /v1/admin/users/:userId/sessions`: ends every session of a user. */
export const adminRevokeAllSessionsRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminRevokeAllSessionsSchemas>()({
  name: 'admin.revokeAllSessions',
  method: 'DELETE',
  path: '/v1/admin/users/:userId/sessions',
  auth: 'service',
  scope: 'admin',
});

/** `GET /v1/admin/users`: users a page at a time, filtered by email prefix and status. */
export const adminListUsersRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminListUsersSchemas>()({
  name: 'admin.listUsers',
  method: 'GET',
  path: '/v1/admin/users',
  auth: 'service',
  scope: 'admin',
});

/** `GET /v1/admin/users/:userId`: one user. */
export const adminGetUserRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminGetUserSchemas>()({
  name: 'admin.getUser',
  method: 'GET',
  path: '/v1/admin/users/:userId',
  auth: 'service',
  scope: 'admin',
});

/** `POST /v1/admin/users`: makes an account, optionally with a password and a confirmed email. */
export const adminCreateUserRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminCreateUserSchemas>()({
  name: 'admin.createUser',
  method: 'POST',
  path: '/v1/admin/users',
  auth: 'service',
  scope: 'admin',
});

/** `PATCH /v1/admin/users/:userId`: disables or bans (revoking every session) or enables an account, changes its email or metadata. */
export const adminUpdateUserRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminUpdateUserSchemas>()({
  name: 'admin.updateUser',
  method: 'PATCH',
  path: '/v1/admin/users/:userId',
  auth: 'service',
  scope: 'admin',
  idempotent: true,
});

/** `POST /v1/admin/users/invite`: makes an account without a password and mails it a sign-in link. */
export const adminInviteUserRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminInviteUserSchemas>()({
  name: 'admin.inviteUser',
  method: 'POST',
  path: '/v1/admin/users/invite',
  auth: 'service',
  scope: 'admin',
});

/** `POST /v1/admin/users/:userId/sign-in-link`: a single-use sign-in link, answered, not mailed. */
export const adminCreateSignInLinkRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminCreateSignInLinkSchemas>()({
  name: 'admin.createSignInLink',
  method: 'POST',
  path: '/v1/admin/users/:userId/sign-in-link',
  auth: 'service',
  scope: 'admin',
});

/** `DELETE /v1/admin/users/:userId`: deletes an account; its sessions end with it. */
export const adminDeleteUserRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminDeleteUserSchemas>()({
  name: 'admin.deleteUser',
  method: 'DELETE',
  path: '/v1/admin/users/:userId',
  auth: 'service',
  scope: 'admin',
});

/** `POST /v1/admin/api-keys`: makes a scoped API key; the key itself is in this answer only. */
export const adminCreateApiKeyRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminCreateApiKeySchemas>()({
  name: 'admin.createApiKey',
  method: 'POST',
  path: '/v1/admin/api-keys',
  auth: 'service',
  scope: 'admin',
});

/** `GET /v1/admin/api-keys`: every API key, newest first, revoked and expired ones included. */
export const adminListApiKeysRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminListApiKeysSchemas>()({
  name: 'admin.listApiKeys',
  method: 'GET',
  path: '/v1/admin/api-keys',
  auth: 'service',
  scope: 'admin',
});

/** `DELETE /v1/admin/api-keys/:keyId`: revokes an API key at once, on every instance. */
export const adminRevokeApiKeyRoute = /* @__PURE__ */ defineRoute<typeof schemas.adminRevokeApiKeySchemas>()({
  name: 'admin.revokeApiKey',
  method: 'DELETE',
  path: '/v1/admin/api-keys/:keyId',
  auth: 'service',
  scope: 'admin',
});
