import { afterEach, describe, expect, it } from 'vitest';
import { testDatabaseLocations } from '../../../test/fixtures/test-database.js';
import { applySchema, schemaVersion } from '../src/database/apply-schema.js';
import type { Database } from '../src/database/database.js';
import { openDatabase } from '../src/database/open-database.js';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

describe.each(testDatabaseLocations())('database on $label', (location) => {
  it('applies the schema, records its version, and runs as plinth_server without BYPASSRLS', async () => {
    const db = await openDatabase(await location.create());
    opened.push(db);
    const [row] = await db.query<{ role: string; bypass: boolean; superuser: boolean; version: number }>(
      `SELECT current_user AS role, r.rolbypassrls AS bypass, r.rolsuper AS superuser,
              (SELECT version FROM plinth.schema_version) AS version
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    expect(row).toEqual({ role: 'plinth_server', bypass: false, superuser: false, version: schemaVersion });
  });

  it('plinth_server owns no table', async () => {
    const db = await openDatabase(await location.create());
    opened.push(db);
    const owned = await db.query(`SELECT schemaname, tablename FROM pg_tables WHERE tableowner = 'plinth_server'`);
    expect(owned).toEqual([]);
  });

  it('binds values as parameters and rolls a failed transaction back', async () => {
    const db = await openDatabase(await location.create());
    opened.push(db);
    const hostile = "x'); DROP TABLE plinth.keys; --";
    await expect(db.query<{ v: string }>('SELECT $1::text AS v', [hostile])).resolves.toEqual([{ v: hostile }]);
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO plinth.keys (kind, prefix, key_hash) VALUES ('service', 'sk_x', 'h1')`);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.query('SELECT 1 FROM plinth.keys')).toEqual([]);
  });

  it('applying the schema again changes nothing (idempotent)', async () => {
    const where = await location.create();
    const first = await openDatabase(where);
    await first.close();
    const second = await openDatabase(where);
    opened.push(second);
    const [row] = await second.query<{ version: number }>('SELECT version FROM plinth.schema_version');
    expect(row?.version).toBe(schemaVersion);
  });
});

describe('schema versions', () => {
  it('refuses a database written by a newer server', async () => {
    const scripts: string[] = [];
    const tx = {
      query: async <Row>(text: string) =>
        (text.includes('to_regclass')
          ? [{ exists: true }]
          : text.includes('SELECT version')
            ? [{ version: schemaVersion + 1 }]
            : []) as Row[],
      run: async () => ({ rows: [], fields: [], command: '', rowCount: 0 }),
      execScript: async (sql: string) => void scripts.push(sql),
    };
    await expect(applySchema((work) => work(tx))).rejects.toThrow(/newer than this server/);
    expect(scripts).toEqual([]);
  });
});
