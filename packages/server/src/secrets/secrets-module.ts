import { defineFeatureModule, type ServiceContext } from '../feature-module.js';
import { configuredKeyRing } from './envelope.js';
import { deleteSecretHandler, getSecretHandler, listSecretsHandler, putSecretHandler } from './secrets-routes.js';
import { createSecretsService, type SecretsService } from './secrets-service.js';

async function createSecretsServices({ database, settings }: ServiceContext): Promise<SecretsService> {
  const { keys = [], current } = settings.secrets ?? {};
  return createSecretsService({
    database,
    ring: configuredKeyRing(keys, current),
  });
}

/**
 * Secrets: named values the app's server keeps in Plinth, encrypted at rest (AES-256-GCM, a key
 * per row derived from a versioned master key), with the service key or an `admin` API key.
 * `services.secrets` is the service; `plinth secrets rotate|audit|rollback` move them between
 * master keys.
 */
export const secretsModule = defineFeatureModule({
  name: 'secrets',
  handlers: [putSecretHandler, getSecretHandler, listSecretsHandler, deleteSecretHandler],
  createServices: createSecretsServices,
});
