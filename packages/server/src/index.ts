/**
 * The Plinth reference server: `startServer()` for tests and embedding, and the `plinth` CLI.
 *
 * @packageDocumentation
 */

export {
  ConfigError,
  type ConfigOptions,
  type ConfigSource,
  type ResolvedConfig,
  resolveConfig,
  type SecretsKeyOption,
  type ServerConfig,
} from './config.js';
export { DirectoryInUseError } from './database/directory-lock.js';
export { DatabaseStartError, DatabaseUnreachableError } from './database/start-errors.js';
export {
  defineFeatureModule,
  type FeatureModule,
  type RateRuleName,
  type RateRuleSet,
  type ServiceContext,
} from './feature-module.js';
export type { Authenticators } from './http/auth-guard.js';
export type { Caller, UserCaller } from './http/caller.js';
export { HttpError } from './http/http-error.js';
export { defineHandler, type HandlerContext, type RouteHandler } from './http/route-handler.js';
export type { Mail, Mailer } from './mail/mailer.js';
export { createOutboxMailer, type OutboxMailer } from './mail/outbox-mailer.js';
export type { OAuthOptions, OAuthProviderOptions } from './oauth/provider-config.js';
export type { ServerServices } from './server-services.js';
export { type RunningServer, type StartServerOptions, type StopReport, startServer } from './start-server.js';
