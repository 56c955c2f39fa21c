import { adminModule } from './admin/admin-module.js';
import { auditModule } from './audit/audit-module.js';
import { authModule } from './auth/auth-module.js';
import { dataModule } from './data/data-module.js';
import { healthModule } from './health/health-module.js';
import { oauthModule } from './oauth/oauth-module.js';
import { defaultRouteRule, type RateRules } from './rate-limit/rate-limit-rules.js';
import { realtimeModule } from './realtime/realtime-module.js';
import { secretsModule } from './secrets/secrets-module.js';
import { storageModule } from './storage/storage-module.js';
import { webhooksModule } from './webhooks/webhooks-module.js';

/**
 * The server's features. The app mounts the handlers of all of them; a new feature is one
 * folder with its module, and one line here.
 */
export const featureModules = [
  healthModule,
  authModule,
  oauthModule,
  adminModule,
  dataModule,
  storageModule,
  realtimeModule,
  secretsModule,
  webhooksModule,
  auditModule,
] as const;

/**
 * The default rate limits: each module's, and `default` for every other route. Addresses shared
 * by many people (offices, carrier-grade NAT) hit them sooner; raise them with `rateRules`.
 */
export const defaultRateRules: RateRules = Object.freeze(
  Object.assign({}, ...featureModules.map((module) => module.rateRules), { default: defaultRouteRule }),
);
