import { defineFeatureModule } from '../feature-module.js';
import { adminCreateApiKeyHandler, adminListApiKeysHandler, adminRevokeApiKeyHandler } from './api-keys.js';
import { adminListSessionsHandler, adminRevokeAllSessionsHandler, adminRevokeSessionHandler } from './sessions.js';
import {
  adminCreateSignInLinkHandler,
  adminCreateUserHandler,
  adminDeleteUserHandler,
  adminGetUserHandler,
  adminInviteUserHandler,
  adminListUsersHandler,
  adminUpdateUserHandler,
} from './users.js';

/**
 * Administration with the service key or an `admin`-scoped API key: users, their sessions, and
 * API keys. It uses the services the other modules build and has none of its own.
 */
export const adminModule = defineFeatureModule({
  name: 'admin',
  handlers: [
    adminListSessionsHandler,
    adminRevokeSessionHandler,
    adminRevokeAllSessionsHandler,
    adminListUsersHandler,
    adminGetUserHandler,
    adminCreateUserHandler,
    adminUpdateUserHandler,
    adminDeleteUserHandler,
    adminInviteUserHandler,
    adminCreateSignInLinkHandler,
    adminCreateApiKeyHandler,
    adminListApiKeysHandler,
    adminRevokeApiKeyHandler,
  ],
});
