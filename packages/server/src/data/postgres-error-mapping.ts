import { HttpError } from '../http/http-error.js';
import type { TableInfo } from './schema-introspection.js';

/** What was running when PostgreSQL refused, to name the field at fault. */
export interface ErrorContext {
  /** The parameters sent, and the request field each came from (compiled queries). */
  readonly params?: readonly unknown[];
  readonly paramFields?: readonly string[];
  /** The table of a compiled query, whose constraints name their columns. */
  readonly table?: TableInfo;
  /** The statement timeout in force, for the message. */
  readonly statementTimeoutMs: number;
  /** Extra details for every error (the batch step). */
  readonly details?: Record<string, unknown>;
}

/** The fields of a PostgreSQL error that both drivers give, under their two spellings. */
interface PostgresErrorFields {
  code: string;
  message: string;
  detail?: string;
  constraint?: string;
  column?: string;
  table?: string;
  position?: number;
}

/**
 * The PostgreSQL error inside `error`, read the same from PGlite (`DatabaseError`: `constraint`,
 * `column`) and postgres.js (`PostgresError`: `constraint_name`, `column_name`); `undefined` for
 * anything else.
 *
 * @example
 * ```ts
 * postgresErrorFields(error)?.code; // '23505'
 * ```
 */
export function postgresErrorFields(error: unknown): PostgresErrorFields | undefined {
  if (!(error instanceof Error) || error instanceof HttpError) return undefined;
  const raw = error as Error & Record<string, unknown>;
  const code = raw.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  const text = (...keys: string[]) => {
    for (const key of keys) if (typeof raw[key] === 'string' && raw[key] !== '') return raw[key] as string;
    return undefined;
  };
  const position = Number(raw.position);
  const fields: PostgresErrorFields = { code, message: error.message };
  const detail = text('detail');
  const constraint = text('constraint', 'constraint_name');
  const column = text('column', 'column_name');
  const table = text('table', 'table_name');
  if (detail !== undefined) fields.detail = detail;
  if (constraint !== undefined) fields.constraint = constraint;
  if (column !== undefined) fields.column = column;
  if (table !== undefined) fields.table = table;
  if (Number.isInteger(position) && position > 0) fields.position = position;
  return fields;
}

/** The columns a constraint error's detail names: `Key (a, b)=(…) already exists.` */
const keyColumns = (detail: string | undefined): string[] | undefined => {
  const match = detail?.match(/^Key \((.+?)\)=/);
  return match?.[1]?.split(', ').map((name) => name.replace(/^"(.*)"$/, '$1'));
};

/** The request field of a value PostgreSQL quoted in its message, by finding the parameter. */
function fieldOfQuotedValue(message: string, context: ErrorContext): string | undefined {
  const quoted = message.match(/: "(.*)"$/s)?.[1];
  if (quoted === undefined || !context.params || !context.paramFields) return undefined;
  const index = context.params.indexOf(quoted);
  if (index >= 0) return context.paramFields[index];
  // An array literal's element: the parameter containing it.
  const containing = context.params.findIndex((param) => typeof param === 'string' && param.includes(quoted));
  return containing >= 0 ? context.paramFields[containing] : undefined;
}

const withField = (field: string | undefined, details: Record<string, unknown>) =>
  field === undefined ? details : { field, ...details };

const changeField = (column: string) => `values.${column}`;

/**
 * The answer for a PostgreSQL error: a stable code and a message that says what to change.
 * Bad input is never a 500: constraint violations are 409 (unique) or 400 naming the column,
 * row-level security and missing grants are 403, a statement timeout is 504, serialization
 * failures and deadlocks 409, and syntax, unknown names, bad values and PostgreSQL's limits are
 * 400. Every SQLSTATE class has its answer: those where the database itself fails are a
 * deliberate 503 `service_unavailable` (connections, resources, shutdowns) or 500
 * `database_error` (internal, I/O and configuration errors). Only an error that is not
 * PostgreSQL's stays `undefined`, and becomes the 500 that logs it.
 *
 * @example
 * ```ts
 * try { await run(); } catch (error) { throw mapPostgresError(error, { statementTimeoutMs: 10_000 }) ?? error; }
 * ```
 */
export function mapPostgresError(error: unknown, context: ErrorContext): HttpError | undefined {
  const pg = postgresErrorFields(error);
  if (!pg) return undefined;
  const extra = context.details ?? {};
  const fail = (code: ConstructorParameters<typeof HttpError>[0], message: string, details: Record<string, unknown>) =>
    new HttpError(code, message, { ...details, ...extra, postgresCode: pg.code });
  const constraintColumns = pg.constraint ? context.table?.constraintColumns.get(pg.constraint) : undefined;
  const columns = keyColumns(pg.detail) ?? constraintColumns ?? (pg.column ? [pg.column] : undefined);
  const firstColumn = columns?.[0];
  const columnField = context.table && firstColumn ? changeField(firstColumn) : undefined;
  const constraintDetails = {
    ...(pg.constraint ? { constraint: pg.constraint } : {}),
    ...(columns ? { columns } : {}),
    ...(pg.table ? { table: pg.table } : {}),
  };

  switch (pg.code) {
    case '23505':
      return fail(
        'conflict',
        `A row with the same ${columns?.join(', ') ?? 'key'} already exists (constraint ${pg.constraint ?? 'unique'}); change the value, or use upsert to update the existing row.`,
        withField(columnField, constraintDetails),
      );
    case '23503':
      return fail(
        'validation_failed',
        pg.detail?.includes('still referenced')
          ? `The row is still referenced by ${pg.detail.match(/from table "(.+?)"/)?.[1] ?? 'another table'} (constraint ${pg.constraint}); remove those rows first.`
          : `${columns?.join(', ') ?? 'A column'} must reference an existing row (foreign key ${pg.constraint}); insert that row first or fix the value.`,
        withField(columnField, constraintDetails),
      );
    case '23502': {
      const column = pg.column ?? firstColumn;
      return fail(
        'validation_failed',
        `Column "${column}" may not be null; give it a value.`,
        withField(context.table && column ? changeField(column) : undefined, { column, ...constraintDetails }),
      );
    }
    case '23514':
      return fail(
        'validation_failed',
        `The row fails the check constraint ${pg.constraint}${columns ? ` on ${columns.join(', ')}` : ''}; change the value so it passes.`,
        withField(columnField, constraintDetails),
      );
    case '23P01':
      return fail(
        'conflict',
        `The row conflicts with another (exclusion constraint ${pg.constraint}).`,
        withField(columnField, constraintDetails),
      );
    case '42501':
      if (/row-level security/i.test(pg.message)) {
        return fail(
          'permission_denied',
          `${pg.message}: the acting role may not write this row. Check the policy's WITH CHECK, or act as a user it allows.`,
          constraintDetails,
        );
      }
      return fail(
        'permission_denied',
        `${pg.message}. The acting role has no privilege for this; GRANT it in the app's schema (anon: plinth_anon, users: plinth_authenticated, service: plinth_service).`,
        {},
      );
    case '57014':
      return fail(
        'timeout',
        `The statement ran past the statement timeout (${context.statementTimeoutMs} ms) and was cancelled; make it cheaper (an index, a smaller page) or raise PLINTH_STATEMENT_TIMEOUT_MS.`,
        {},
      );
    case '42601':
      if (/multiple commands/i.test(pg.message)) {
        return fail(
          'validation_failed',
          'text holds more than one statement; send one per call, or several as steps of POST /v1/batch.',
          { field: 'text' },
        );
      }
      return fail(
        'validation_failed',
        `${pg.message}${pg.position ? ` (at character ${pg.position})` : ''}; fix the SQL.`,
        { field: 'text', ...(pg.position ? { position: pg.position } : {}) },
      );
    case '40001':
    case '40P01':
      return fail('conflict', `${pg.message}; the transaction was rolled back, retry it.`, {});
    case '42P10':
      return fail(
        'validation_failed',
        `${pg.message}; onConflict must name the columns of a primary key or unique constraint.`,
        { field: 'onConflict' },
      );
  }
  const klass = pg.code.slice(0, 2);
  if (klass === '22') {
    const field = fieldOfQuotedValue(pg.message, context) ?? (pg.column ? changeField(pg.column) : undefined);
    return fail(
      'validation_failed',
      `${field ? `${field}: ` : ''}${pg.message}; send a value of the column's type.`,
      withField(field, {}),
    );
  }
  const answer = answerForClass(pg.code);
  if (answer.status === 'server') {
    // Not the request's fault, and nothing of the database's state for the caller: the code and
    // the request id find it in the log.
    const refusal = fail(answer.code, answer.hint, {});
    refusal.cause = error;
    return refusal;
  }
  const field = klass === '54' ? fieldOfDeepestArray(context) : undefined;
  // A raw statement's fault is in its text (or its parameters); a compiled query's, in a value.
  const statementField = field ?? (answer.code === 'validation_failed' && !context.table ? 'text' : undefined);
  return fail(
    answer.code,
    `${field ? `${field}: ` : ''}${pg.message}${pg.position ? ` (at character ${pg.position})` : ''}${answer.hint ? `; ${answer.hint}` : '.'}`,
    withField(statementField, pg.position ? { position: pg.position } : {}),
  );
}

type ClassAnswer =
  | { status: 'client'; code: 'validation_failed' | 'permission_denied' | 'conflict'; hint?: string }
  | { status: 'server'; code: 'service_unavailable' | 'database_error'; hint: string };

const unavailable: ClassAnswer = {
  status: 'server',
  code: 'service_unavailable',
  hint: 'The database is unavailable, shutting down or out of resources; try again shortly.',
};
const databaseFailed: ClassAnswer = {
  status: 'server',
  code: 'database_error',
  hint: 'The database failed on its own (an internal, I/O or configuration error); the request id finds it in the server log.',
};
const retry: ClassAnswer = {
  status: 'client',
  code: 'conflict',
  hint: 'the transaction was rolled back, retry it.',
};

/**
 * The answer for every SQLSTATE class of PostgreSQL's Appendix A not handled by code above.
 * The statement or its values are at fault unless the class says the database itself is: then
 * a deliberate 503 (it may pass) or 500 `database_error` (it will not), never `internal_error`.
 */
const classAnswers: Readonly<Record<string, ClassAnswer>> = {
  // Connection exceptions, insufficient resources, operator intervention (shutdowns; 57014 is
  // the statement timeout, handled above).
  '08': unavailable,
  '53': unavailable,
  '57': unavailable,
  // System errors outside PostgreSQL, configuration file errors, internal errors.
  '58': databaseFailed,
  F0: databaseFailed,
  XX: databaseFailed,
  // Transaction rollbacks and snapshots too old: running it again may succeed.
  '40': retry,
  '72': retry,
  // Grantors and authorization: the acting role may not do this.
  '0L': { status: 'client', code: 'permission_denied', hint: 'the acting role may not do this.' },
  '28': { status: 'client', code: 'permission_denied', hint: 'the acting role may not do this.' },
  '54': {
    status: 'client',
    code: 'validation_failed',
    hint: "over one of PostgreSQL's limits (arrays of at most 6 dimensions, 65 535 parameters, 1 GB per value, rows that fit a page); make it smaller.",
  },
  '55': {
    status: 'client',
    code: 'validation_failed',
    hint: 'the object is not in the state this needs (currval() before nextval() in this session, say).',
  },
  '3D': {
    status: 'client',
    code: 'validation_failed',
    hint: 'name a database that exists; the data API serves only this one.',
  },
};

/** The answer for a SQLSTATE: its exact code's, else its class's, else the app's own error (400). */
function answerForClass(code: string): ClassAnswer {
  // A lock not available (NOWAIT) or an object in use is a conflict with other work, not bad SQL.
  if (code === '55P03' || code === '55006') return retry;
  // A protocol violation here is a parameter count mismatch: the request's fault.
  if (code === '08P01') return { status: 'client', code: 'validation_failed' };
  // Every other class (syntax, access rules, data, integrity, invalid transaction use, features
  // not supported, raised exceptions, and any code an app's function raises itself) is the
  // statement's or its values'.
  return classAnswers[code.slice(0, 2)] ?? { status: 'client', code: 'validation_failed' };
}

/** The field of the parameter holding the most deeply nested array literal (`{{{…`), if any. */
function fieldOfDeepestArray(context: ErrorContext): string | undefined {
  let best: { field: string; depth: number } | undefined;
  context.params?.forEach((param, index) => {
    const depth = typeof param === 'string' ? (param.match(/^\{+/)?.[0].length ?? 0) : 0;
    const field = context.paramFields?.[index];
    if (depth > 1 && field !== undefined && depth > (best?.depth ?? 0)) best = { field, depth };
  });
  return best?.field;
}
