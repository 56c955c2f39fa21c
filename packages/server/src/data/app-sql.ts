import { parse } from 'libpg-query';
import { HttpError } from '../http/http-error.js';

// App SQL (`/v1/sql`, `sql` steps of `/v1/batch`) may read and change the app's data and nothing
// else. What a statement is comes from PostgreSQL's own grammar (libpg-query is the server's
// parser compiled to WebAssembly), never from keywords: comments, quoting, a leading `;` or a
// `\r` change how text looks, not how PostgreSQL parses it. Session and transaction control,
// schema changes, COPY, code blocks and the like are refused here; privileges then bound what
// an allowed statement can touch (docs/security.md).
const allowedKinds: Readonly<Record<string, string>> = {
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

/** `VariableSetStmt` → `SET`: the statement kind as people write it. */
function kindName(node: string): string {
  const names: Record<string, string> = {
    VariableSetStmt: 'SET',
    VariableShowStmt: 'SHOW',
    TransactionStmt: 'transaction control (BEGIN, COMMIT, SAVEPOINT, …)',
    DoStmt: 'DO',
    CopyStmt: 'COPY',
    CallStmt: 'CALL',
    LoadStmt: 'LOAD',
    DiscardStmt: 'DISCARD',
    ListenStmt: 'LISTEN',
    UnlistenStmt: 'UNLISTEN',
    NotifyStmt: 'NOTIFY',
    PrepareStmt: 'PREPARE',
    ExecuteStmt: 'EXECUTE',
    DeallocateStmt: 'DEALLOCATE',
    DeclareCursorStmt: 'DECLARE CURSOR',
    GrantStmt: 'GRANT/REVOKE',
    GrantRoleStmt: 'GRANT/REVOKE of a role',
    LockStmt: 'LOCK',
    VacuumStmt: 'VACUUM/ANALYZE',
  };
  if (names[node]) return names[node];
  // CreateFunctionStmt → CREATE FUNCTION, AlterTableStmt → ALTER TABLE, DropStmt → DROP.
  return node
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

function refuse(message: string, details: Record<string, unknown>): never {
  throw new HttpError('validation_failed', `text: ${message}`, { field: 'text', ...details });
}

/**
 * Checks that `text` is exactly one statement that app SQL may run: `SELECT` (not `SELECT …
 * INTO`), `INSERT`, `UPDATE`, `DELETE` or `MERGE`, with CTEs, or an `EXPLAIN` of one of them.
 * Anything else is a 400 naming the statement kind; schema changes belong in the app's schema
 * directory, which the server applies as `plinth_owner`.
 *
 * @example
 * ```ts
 * await checkAppSql('select * from posts where id = $1'); // fine
 * await checkAppSql(';SET ROLE postgres');               // throws HttpError validation_failed
 * ```
 */
export async function checkAppSql(text: string): Promise<void> {
  let statements: { stmt?: Record<string, unknown> }[];
  try {
    statements = (await parse(text)).stmts ?? [];
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    if (details) {
      const message = (error as Error).message;
      refuse(`${message} (at character ${(details.cursorPosition ?? 0) + 1}).`, {
        reason: 'syntax',
        position: (details.cursorPosition ?? 0) + 1,
      });
    }
    // The parser runs out of stack or memory on absurd nesting, before PostgreSQL would.
    refuse('the statement is nested too deeply to check; simplify it.', { reason: 'too_deep' });
  }
  if (statements.length !== 1) {
    refuse(
      statements.length === 0
        ? 'no statement found; send one SELECT, INSERT, UPDATE, DELETE or MERGE.'
        : `${statements.length} statements found; send one per call (several go as steps of POST /v1/batch, in one transaction).`,
      { reason: 'statement_count', statements: statements.length },
    );
  }
  checkStatement(statements[0]?.stmt ?? {});
}

function checkStatement(node: Record<string, unknown>): void {
  const [kind, body] = Object.entries(node)[0] ?? ['', {}];
  if (kind === 'ExplainStmt') {
    checkStatement(((body as { query?: Record<string, unknown> }).query ?? {}) as Record<string, unknown>);
    return;
  }
  const allowed = allowedKinds[kind];
  if (allowed === undefined) {
    const name = kindName(kind);
    refuse(
      `${name} is not allowed here: app SQL runs one SELECT, INSERT, UPDATE, DELETE or MERGE, in a transaction whose role, claims and timeout the server sets. Schema changes, functions and grants belong in the app's schema directory (PLINTH_SCHEMA_DIR), applied at start as plinth_owner.`,
      { statement: name },
    );
  }
  if (kind === 'SelectStmt' && (body as { intoClause?: unknown }).intoClause !== undefined) {
    refuse(
      "SELECT … INTO creates a table and is not allowed here; create tables in the app's schema directory (PLINTH_SCHEMA_DIR), and use INSERT … SELECT.",
      { statement: 'SELECT INTO' },
    );
  }
}
