import { defineFeatureModule } from '../feature-module.js';
import { listAuditLogHandler } from './audit-routes.js';

/**
 * The audit log: every call site of `audit()` appends to it (who, what, from where); this module
 * serves `GET /v1/admin/audit-log`, which reads it, with the service key or an `admin` API key.
 * It needs no services: the handler queries the database through audit-log.ts.
 */
export const auditModule = defineFeatureModule({ name: 'audit', handlers: [listAuditLogHandler] });
