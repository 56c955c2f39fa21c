import { defineRoute } from '../route.js';
import type * as schemas from './audit.schemas.js';

// The audit log: who did what, from where. Service key or an API key with the `admin` scope,
// never a browser. Read only: no route changes or removes an entry.

/** `GET /v1/admin/audit-log`: entries, newest first, filtered, a page at a time. */
export const listAuditLogRoute = /* @__PURE__ */ defineRoute<typeof schemas.listAuditLogSchemas>()({
  name: 'admin.audit.list',
  method: 'GET',
  path: '/v1/admin/audit-log',
  auth: 'service',
  scope: 'admin',
});
