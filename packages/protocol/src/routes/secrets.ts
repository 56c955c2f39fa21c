import { defineRoute } from '../route.js';
import type * as schemas from './secrets.schemas.js';

// Secrets: named values the app's server keeps in Plinth, encrypted at rest under versioned
// master keys. Service key or an API key with the `admin` scope, never a browser.

/** `PUT /v1/admin/secrets/:name`: stores a value under a name, replacing any before it. */
export const putSecretRoute = /* @__PURE__ */ defineRoute<typeof schemas.putSecretSchemas>()({
  name: 'admin.secrets.put',
  method: 'PUT',
  path: '/v1/admin/secrets/:name',
  auth: 'service',
  scope: 'admin',
  idempotent: true,
});

/** `GET /v1/admin/secrets/:name`: a secret's value, decrypted. */
export const getSecretRoute = /* @__PURE__ */ defineRoute<typeof schemas.getSecretSchemas>()({
  name: 'admin.secrets.get',
  method: 'GET',
  path: '/v1/admin/secrets/:name',
  auth: 'service',
  scope: 'admin',
});

/** `GET /v1/admin/secrets`: names and key versions, never values, in name order, a page at a time. */
export const listSecretsRoute = /* @__PURE__ */ defineRoute<typeof schemas.listSecretsSchemas>()({
  name: 'admin.secrets.list',
  method: 'GET',
  path: '/v1/admin/secrets',
  auth: 'service',
  scope: 'admin',
});

/** `DELETE /v1/admin/secrets/:name`: removes a secret; `deleted: false` if there was none. */
export const deleteSecretRoute = /* @__PURE__ */ defineRoute<typeof schemas.deleteSecretSchemas>()({
  name: 'admin.secrets.delete',
  method: 'DELETE',
  path: '/v1/admin/secrets/:name',
  auth: 'service',
  scope: 'admin',
});
