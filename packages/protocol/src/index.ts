/**
 * The Plinth wire contract: every route, its auth requirement and schemas, the error envelope
 * and the stable error codes. The server and every SDK package read it from here.
 *
 * @packageDocumentation
 */

export {
  type ClientErrorCode,
  clientErrorCodes,
  type ErrorCode,
  type ErrorKind,
  errorKindForStatus,
  type ServerErrorCode,
  serverErrorCodes,
} from './error-codes.js';
export {
  type ErrorBody,
  type ErrorEnvelope,
  errorEnvelope,
  readErrorEnvelope,
} from './error-envelope.js';
export { errorEnvelopeSchema } from './error-envelope-schema.js';
export { jsonDepthProblem, maxJsonDepth } from './json-depth.js';
export {
  type ApiKeyScope,
  type AuthRequirement,
  apiKeyScopes,
  declaredRoute,
  defineRoute,
  type HttpMethod,
  isRetrySafe,
  pathParams,
  type Route,
  type RouteInput,
  type RouteOutput,
  type RouteSchema,
  type RouteSchemas,
  type RouteWithSchemas,
  withSchemas,
} from './route.js';
export { auditRoutes, type RouteName, routeTable } from './route-table.js';
export {
  adminCreateApiKeyRoute,
  adminDeleteUserRoute,
  adminListApiKeysRoute,
  adminListSessionsRoute,
  adminRevokeApiKeyRoute,
  adminRevokeSessionRoute,
  adminUpdateUserRoute,
} from './routes/admin.js';
export {
  type AdminSession,
  type AdminUser,
  type ApiKeyInfo,
  adminCreateApiKeySchemas,
  adminDeleteUserSchemas,
  adminListApiKeysSchemas,
  adminListSessionsSchemas,
  adminRevokeApiKeySchemas,
  adminRevokeSessionSchemas,
  adminSessionSchema,
  adminUpdateUserSchemas,
  adminUserSchema,
  apiKeyInfoSchema,
} from './routes/admin.schemas.js';
export {
  confirmPasswordResetRoute,
  exchangeCodeRoute,
  getMeRoute,
  listSessionsRoute,
  oauthCallbackRoute,
  refreshRoute,
  resetPasswordRoute,
  revokeSessionRoute,
  signInRoute,
  signInWithMagicLinkRoute,
  signInWithOAuthRoute,
  signOutRoute,
  signUpRoute,
  updatePasswordRoute,
  verifyEmailRoute,
  verifyMagicLinkRoute,
} from './routes/auth.js';
export {
  confirmPasswordResetSchemas,
  exchangeCodeSchemas,
  getMeSchemas,
  listSessionsSchemas,
  oauthCallbackSchemas,
  refreshSchemas,
  resetPasswordSchemas,
  revokeSessionSchemas,
  type SessionInfo,
  type SignedIn,
  sessionInfoSchema,
  signedInSchema,
  signInSchemas,
  signInWithMagicLinkSchemas,
  signInWithOAuthSchemas,
  signOutSchemas,
  signUpSchemas,
  type TokenSession,
  tokenSessionSchema,
  type User,
  updatePasswordSchemas,
  userSchema,
  verifyEmailSchemas,
  verifyMagicLinkSchemas,
} from './routes/auth.schemas.js';
export {
  batchRoute,
  type FilterOperator,
  filterOperators,
  queryRoute,
  schemaRoute,
  sqlRoute,
} from './routes/data.js';
export {
  batchRequestSchema,
  batchResponseSchema,
  batchSchemas,
  batchStepSchema,
  type Condition,
  conditionSchema,
  type DatabaseSchema,
  type JsonValue,
  orderSchema,
  type QueryRequest,
  type QueryResponse,
  queryRequestSchema,
  queryResponseSchema,
  querySchemas,
  resultColumnSchema,
  type SqlRequest,
  type SqlResponse,
  schemaColumnSchema,
  schemaResponseSchema,
  schemaSchemas,
  schemaTableSchema,
  sqlRequestSchema,
  sqlResponseSchema,
  sqlSchemas,
} from './routes/data.schemas.js';
export { healthRoute } from './routes/health.js';
export { healthSchemas } from './routes/health.schemas.js';
export { describeIssue, issueField, type SchemaIssue } from './schema-issues.js';
export { apiVersionPrefix, keyPrefixes, sessionCookieNames, wireHeaders } from './wire.js';
