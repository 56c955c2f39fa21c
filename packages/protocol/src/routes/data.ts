import { type ApiKeyScope, defineRoute } from '../route.js';
import type * as schemas from './data.schemas.js';

// Every data route needs the service key: the browser never queries directly (docs/security.md, "Trust model").
// A service call may act as a user by also sending the user's access token in
// `wireHeaders.actAs`; the statement then runs under row-level security with that user's claims.

/** Comparison operators, a closed set. `in`/`notIn` take an array; `isNull` a boolean. */
export const filterOperators = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'notIn',
  'like',
  'ilike',
  'isNull',
  'contains',
  'containedBy',
] as const;

/** One of {@link filterOperators}. */
export type FilterOperator = (typeof filterOperators)[number];

// What an API key needs depends on the body: a select reads, anything else writes; `sql` may
// be any statement, so it always needs `data:write`.
const queryScope = (query: { op: string }): ApiKeyScope => (query.op === 'select' ? 'data:read' : 'data:write');

/** `POST /v1/query`: one query AST → one parameterised statement. */
export const queryRoute = /* @__PURE__ */ defineRoute<typeof schemas.querySchemas>()({
  name: 'from',
  method: 'POST',
  path: '/v1/query',
  auth: 'service',
  scopeFor: (query) => [queryScope(query)],
  // A change's answer is recorded with its Idempotency-Key in the change's own transaction.
  idempotent: true,
});

/**
 * `POST /v1/sql`: one statement built by the `sql` tag, values as parameters only. Deduplicated
 * when the caller sends an `Idempotency-Key` (an app's statement may read or write; only the
 * caller knows which is worth a record).
 */
export const sqlRoute = /* @__PURE__ */ defineRoute<typeof schemas.sqlSchemas>()({
  name: 'sql',
  method: 'POST',
  path: '/v1/sql',
  auth: 'service',
  scope: 'data:write',
  idempotent: 'when-keyed',
});

/** `POST /v1/batch`: queries and statements in one transaction, all or nothing. */
export const batchRoute = /* @__PURE__ */ defineRoute<typeof schemas.batchSchemas>()({
  name: 'batch',
  method: 'POST',
  path: '/v1/batch',
  auth: 'service',
  // The union of its steps' needs: a batch of selects needs only `data:read`.
  scopeFor: ({ steps }) => [
    ...new Set(steps.map((step) => (step.kind === 'sql' ? 'data:write' : queryScope(step.query)))),
  ],
  // The answer is recorded with its Idempotency-Key in the batch's own transaction.
  idempotent: true,
});

/** `GET /v1/schema`: the exposed tables and columns, for `plinth gen types`. */
export const schemaRoute = /* @__PURE__ */ defineRoute<typeof schemas.schemaSchemas>()({
  name: 'schema',
  method: 'GET',
  path: '/v1/schema',
  auth: 'service',
  scope: 'data:read',
});
