import { describe, expect, it } from 'vitest';
import { mapPostgresError } from '../../src/data/postgres-error-mapping.js';

// Every SQLSTATE class of PostgreSQL's Appendix A ("PostgreSQL Error Codes"), with the answer it
// gets. None may fall through to a 500 `internal_error`: the statement's fault is a 4xx, and the
// database's own failure a deliberate 503 or 500 `database_error`.
const classes: [klass: string, what: string, code: string][] = [
  ['00', 'successful completion', 'validation_failed'],
  ['01', 'warning', 'validation_failed'],
  ['02', 'no data', 'validation_failed'],
  ['03', 'SQL statement not yet complete', 'validation_failed'],
  ['08', 'connection exception', 'service_unavailable'],
  ['09', 'triggered action exception', 'validation_failed'],
  ['0A', 'feature not supported', 'validation_failed'],
  ['0B', 'invalid transaction initiation', 'validation_failed'],
  ['0F', 'locator exception', 'validation_failed'],
  ['0L', 'invalid grantor', 'permission_denied'],
  ['0P', 'invalid role specification', 'validation_failed'],
  ['0Z', 'diagnostics exception', 'validation_failed'],
  ['20', 'case not found', 'validation_failed'],
  ['21', 'cardinality violation', 'validation_failed'],
  ['22', 'data exception', 'validation_failed'],
  ['23', 'integrity constraint violation', 'validation_failed'],
  ['24', 'invalid cursor state', 'validation_failed'],
  ['25', 'invalid transaction state', 'validation_failed'],
  ['26', 'invalid SQL statement name', 'validation_failed'],
  ['27', 'triggered data change violation', 'validation_failed'],
  ['28', 'invalid authorization specification', 'permission_denied'],
  ['2B', 'dependent privilege descriptors still exist', 'validation_failed'],
  ['2D', 'invalid transaction termination', 'validation_failed'],
  ['2F', 'SQL routine exception', 'validation_failed'],
  ['34', 'invalid cursor name', 'validation_failed'],
  ['38', 'external routine exception', 'validation_failed'],
  ['39', 'external routine invocation exception', 'validation_failed'],
  ['3B', 'savepoint exception', 'validation_failed'],
  ['3D', 'invalid catalog name', 'validation_failed'],
  ['3F', 'invalid schema name', 'validation_failed'],
  ['40', 'transaction rollback', 'conflict'],
  ['42', 'syntax error or access rule violation', 'validation_failed'],
  ['44', 'WITH CHECK OPTION violation', 'validation_failed'],
  ['53', 'insufficient resources', 'service_unavailable'],
  ['54', 'program limit exceeded', 'validation_failed'],
  ['55', 'object not in prerequisite state', 'validation_failed'],
  ['57', 'operator intervention', 'service_unavailable'],
  ['58', 'system error', 'database_error'],
  ['72', 'snapshot failure', 'conflict'],
  ['F0', 'configuration file error', 'database_error'],
  ['HV', 'foreign data wrapper error', 'validation_failed'],
  ['P0', 'PL/pgSQL error', 'validation_failed'],
  ['XX', 'internal error', 'database_error'],
];

const postgresError = (code: string, message = 'the database said no') =>
  Object.assign(new Error(message), { code, severity: 'ERROR' });
const sqlContext = { statementTimeoutMs: 1000 };

describe('every SQLSTATE class maps to a stable code, never internal_error', () => {
  it.each(classes)('class %s (%s) → %s', (klass, _what, code) => {
    const mapped = mapPostgresError(postgresError(`${klass}000`), sqlContext);
    expect(mapped).toBeDefined();
    expect(mapped?.code).toBe(code);
    expect(mapped?.code).not.toBe('internal_error');
    expect(mapped?.details?.postgresCode).toBe(`${klass}000`);
    if (mapped && mapped.status >= 500) {
      // The database's failure: nothing of its message goes to the caller.
      expect(['service_unavailable', 'database_error']).toContain(mapped.code);
      expect(mapped.message).not.toContain('the database said no');
    } else {
      expect(mapped?.status).toBeGreaterThanOrEqual(400);
      expect(mapped?.status).toBeLessThan(500);
    }
  });

  it.each([
    ['57014', 'query canceled (the statement timeout)', 'timeout'],
    ['57P01', 'admin shutdown', 'service_unavailable'],
    ['57P03', 'cannot connect now', 'service_unavailable'],
    ['53100', 'disk full', 'service_unavailable'],
    ['55P03', 'lock not available (NOWAIT)', 'conflict'],
    ['55006', 'object in use', 'conflict'],
    ['08P01', 'protocol violation (a parameter count mismatch)', 'validation_failed'],
    ['54001', 'statement too complex', 'validation_failed'],
    ['XX001', 'data corrupted', 'database_error'],
    ['U0001', 'a code an app function raises itself', 'validation_failed'],
  ])('%s (%s) → %s', (sqlstate, _what, code) => {
    expect(mapPostgresError(postgresError(sqlstate), sqlContext)?.code).toBe(code);
  });

  it('a 400 for a raw statement names text; a too-deep array in a compiled query names its value', () => {
    expect(mapPostgresError(postgresError('55000'), sqlContext)?.details?.field).toBe('text');
    const compiled = mapPostgresError(
      postgresError('54000', 'number of array dimensions (7) exceeds the maximum allowed (6)'),
      {
        ...sqlContext,
        params: ['apple', '{{{{{{{"x"}}}}}}}'],
        paramFields: ['values.name', 'values.tags'],
        table: { constraintColumns: new Map() } as never,
      },
    );
    expect(compiled?.details?.field).toBe('values.tags');
    expect(compiled?.message).toMatch(/^values\.tags: number of array dimensions/);
  });

  it('leaves errors that are not PostgreSQL’s alone', () => {
    expect(mapPostgresError(new Error('socket hang up'), sqlContext)).toBeUndefined();
    expect(mapPostgresError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), sqlContext)).toBeUndefined();
  });
});
