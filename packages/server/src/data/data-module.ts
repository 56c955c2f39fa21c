import { hkdfSync } from 'node:crypto';
import { defineFeatureModule, type ServiceContext } from '../feature-module.js';
import { batchHandler } from './batch-handler.js';
import { createDataService, type DataService } from './data-service.js';
import { queryHandler } from './query-handler.js';
import { schemaHandler } from './schema-handler.js';
import { sqlHandler } from './sql-handler.js';

function createDataServices({ database, settings, secrets }: ServiceContext): DataService {
  return createDataService({
    ...settings.data,
    database,
    // Keyset cursors are signed with a key derived from a secret every instance shares, so a
    // cursor from one instance reads on another.
    cursorKey: new Uint8Array(hkdfSync('sha256', secrets.refreshSecret, '', 'plinth keyset cursor', 32)),
  });
}

/**
 * The data API: queries from the builder (`from`), statements from the `sql` tag, batches of
 * both in one transaction, and the exposed schema for `plinth gen types`. `services.data` holds
 * the introspected schema, the query compiler and the statements run as the acting role.
 */
export const dataModule = defineFeatureModule({
  name: 'data',
  handlers: [queryHandler, sqlHandler, batchHandler, schemaHandler],
  createServices: createDataServices,
});
