import { randomUUID } from 'node:crypto';
import type { SecretInfo } from '@plinth/protocol';
import type { Database, Queryable } from '../database/database.js';
import { HttpError } from '../http/http-error.js';
import { type MasterKeyRing, openSecret, SecretEnvelopeError, sealSecret } from './envelope.js';

/** How far a rotation has come, after each batch it committed. */
export interface RotationProgress {
  /** Secrets on the target version now (already there at the start, or moved since). */
  readonly done: number;
  /** Secrets there were at the start. */
  readonly total: number;
  /** Moved by this run so far. */
  readonly reencrypted: number;
}

/** What a rotation did. */
export interface RotationSummary {
  /** The version every secret is on now. */
  readonly to: number;
  /** Secrets there were at the start. */
  readonly scanned: number;
  /** Moved to the target version by this run. */
  readonly reencrypted: number;
  /** Already on the target version at the start (a resumed run finds the earlier run's work here). */
  readonly alreadyCurrent: number;
  readonly seconds: number;
}

export interface RotateOptions {
  /** The master key version to move every secret to (configured, current or older). */
  readonly to: number;
  /** Secrets per transaction. Default 500. */
  readonly batchSize?: number;
  /** Batches in flight at once (PostgreSQL: each on its own connection). Default 1. */
  readonly concurrency?: number;
  /** Called after each committed batch, and awaited before the next. */
  readonly onProgress?: (progress: RotationProgress) => void | Promise<void>;
}

/** Named secrets, encrypted at rest (schema/012-secrets.sql). */
export interface SecretsService {
  /** Whether master keys are configured: without them every call refuses, saying how to set one. */
  readonly enabled: boolean;
  put(name: string, value: string): Promise<{ secret: SecretInfo; created: boolean }>;
  get(name: string): Promise<{ secret: SecretInfo; value: string }>;
  list(options: {
    prefix?: string | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  }): Promise<{ secrets: SecretInfo[]; nextCursor: string | null }>;
  remove(name: string): Promise<boolean>;
  /**
   * Re-encrypts every secret not on version `to`, a batch per transaction: a run stopped at any
   * point (a killed process included) leaves each secret on its old or its new version, both
   * readable, and running it again finishes the rest.
   */
  rotate(options: RotateOptions): Promise<RotationSummary>;
  /** How many secrets each master key version holds. */
  countByVersion(): Promise<Map<number, number>>;
}

interface SecretRow {
  id: string;
  name: string;
  key_version: number;
  envelope: string;
  created_at: string;
  updated_at: string;
}

const columns = `id, name, key_version, envelope,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at`;

const infoOf = (row: SecretRow): SecretInfo => ({
  name: row.name,
  keyVersion: Number(row.key_version),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const noSuchSecret = (name: string) =>
  new HttpError('not_found', `No secret named ${name}. List the secrets to see their names.`, { field: 'name' });

/** The message when no master key is configured, for routes and commands alike. */
export const secretsOffMessage =
  'Secrets are off on this server: no master key is configured. Set PLINTH_SECRETS_KEYS=1:<base64 of 32 random bytes> (make one with `openssl rand -base64 32`) on every instance, and keep it out of the database and its backups.';

const cursorOf = (name: string) => Buffer.from(name, 'utf8').toString('base64url');

/**
 * The secrets of one database under the configured master keys (`ring`; undefined when none
 * are configured, and every call then refuses).
 *
 * @example
 * ```ts
 * const secrets = createSecretsService({ database, ring: masterKeyRing([{ version: 1, key }]) });
 * await secrets.put('STRIPE_API_KEY', 'sk_live_…');
 * (await secrets.get('STRIPE_API_KEY')).value; // 'sk_live_…'
 * ```
 */
export function createSecretsService({
  database,
  ring,
}: {
  database: Database;
  ring: MasterKeyRing | undefined;
}): SecretsService {
  const keys = (): MasterKeyRing => {
    if (!ring) throw new HttpError('not_implemented', secretsOffMessage);
    return ring;
  };
  const open = (row: SecretRow): string => {
    try {
      return openSecret(keys(), row.id, row.envelope);
    } catch (error) {
      if (!(error instanceof SecretEnvelopeError)) throw error;
      // The database holds something this server cannot read: an operator's problem, not the caller's.
      throw new HttpError('internal_error', `The secret ${row.name} could not be decrypted: ${error.message}`);
    }
  };
  const find = async (db: Queryable, name: string, lock = false) =>
    (
      await db.query<SecretRow>(`SELECT ${columns} FROM plinth.secrets WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [
        name,
      ])
    )[0];

  return {
    enabled: ring !== undefined,

    async put(name, value) {
      const { current } = keys();
      return database.transaction(async (tx) => {
        // A new row's id is chosen here, so that its value is sealed for that id; a row that
        // exists keeps its id. The lock orders two puts of one new name.
        await tx.query('SELECT pg_advisory_xact_lock(7419003, hashtext($1))', [name]);
        const existing = await find(tx, name, true);
        if (existing) {
          const [row] = await tx.query<SecretRow>(
            `UPDATE plinth.secrets SET key_version = $2, envelope = $3, updated_at = now() WHERE id = $1 RETURNING ${columns}`,
            [existing.id, current, sealSecret(keys(), current, existing.id, value)],
          );
          return { secret: infoOf(row as SecretRow), created: false };
        }
        const id = randomUUID();
        const [row] = await tx.query<SecretRow>(
          `INSERT INTO plinth.secrets (id, name, key_version, envelope) VALUES ($1, $2, $3, $4) RETURNING ${columns}`,
          [id, name, current, sealSecret(keys(), current, id, value)],
        );
        return { secret: infoOf(row as SecretRow), created: true };
      });
    },

    async get(name) {
      keys();
      const row = await find(database, name);
      if (!row) throw noSuchSecret(name);
      return { secret: infoOf(row), value: open(row) };
    },

    async list({ prefix = '', limit = 100, cursor }) {
      keys();
      let after = '';
      if (cursor !== undefined) {
        after = Buffer.from(cursor, 'base64url').toString('utf8');
        if (!/^[A-Za-z0-9_.-]{1,128}$/.test(after) || cursorOf(after) !== cursor)
          throw new HttpError(
            'validation_failed',
            'cursor: not a cursor this route gave; pass nextCursor as it came.',
            {
              field: 'cursor',
            },
          );
      }
      const rows = await database.query<SecretRow>(
        `SELECT ${columns} FROM plinth.secrets
          WHERE left(name, length($1)) = $1 AND name COLLATE "C" > $2
          ORDER BY name COLLATE "C" LIMIT $3`,
        [prefix, after, limit + 1],
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { secrets: page.map(infoOf), nextCursor: rows.length > limit && last ? cursorOf(last.name) : null };
    },

    async remove(name) {
      keys();
      const rows = await database.query('DELETE FROM plinth.secrets WHERE name = $1 RETURNING id', [name]);
      return rows.length > 0;
    },

    async rotate({ to, batchSize = 500, concurrency = 1, onProgress }) {
      const ring = keys();
      if (!ring.keys.has(to)) {
        throw new SecretEnvelopeError(
          `No master key version ${to} is configured (PLINTH_SECRETS_KEYS has ${[...ring.keys.keys()].join(', ')}); add it on every instance first.`,
        );
      }
      const began = performance.now();
      const [counts] = await database.query<{ total: number; current: number }>(
        'SELECT count(*)::int AS total, (count(*) FILTER (WHERE key_version = $1))::int AS current FROM plinth.secrets',
        [to],
      );
      const total = Number(counts?.total ?? 0);
      const alreadyCurrent = Number(counts?.current ?? 0);
      let reencrypted = 0;
      let failure: unknown;
      // Batches walk the table in id order from a shared cursor, so none scans again the rows
      // earlier batches moved (without it, each batch skipped past all of them: quadratic).
      const start = '00000000-0000-0000-0000-000000000000';
      let after = start;
      const batch = () =>
        database.transaction(async (tx) => {
          // SKIP LOCKED: concurrent batches (and a second rotation) take different rows.
          const rows = await tx.query<SecretRow>(
            `SELECT ${columns} FROM plinth.secrets WHERE key_version <> $1 AND id > $3::uuid
              ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [to, batchSize, after],
          );
          const last = rows.at(-1);
          if (!last) return 0;
          if (last.id > after) after = last.id;
          const envelopes = rows.map((row) => {
            try {
              return sealSecret(ring, to, row.id, openSecret(ring, row.id, row.envelope));
            } catch (error) {
              throw new SecretEnvelopeError(
                `The secret ${row.name} could not be re-encrypted, so the rotation stopped (what it finished is kept): ${(error as Error).message}`,
              );
            }
          });
          await tx.query(
            `UPDATE plinth.secrets AS s SET key_version = $1, envelope = v.envelope
               FROM unnest($2::uuid[], $3::text[]) AS v(id, envelope) WHERE s.id = v.id`,
            [to, rows.map((row) => row.id), envelopes],
          );
          return rows.length;
        });
      const worker = async () => {
        while (failure === undefined) {
          const moved = await batch();
          if (moved === 0) return;
          reencrypted += moved;
          await onProgress?.({ done: Math.min(total, alreadyCurrent + reencrypted), total, reencrypted });
        }
      };
      const pass = (workers: number) =>
        Promise.all(
          Array.from({ length: workers }, () =>
            worker().catch((error: unknown) => {
              failure ??= error;
            }),
          ),
        );
      await pass(Math.max(1, concurrency));
      // Once more from the start, alone: a secret written on an old version behind the cursor
      // while the rotation ran (an instance not yet told the new version) is moved too.
      if (failure === undefined) {
        after = start;
        await pass(1);
      }
      if (failure !== undefined) throw failure;
      return { to, scanned: total, reencrypted, alreadyCurrent, seconds: (performance.now() - began) / 1000 };
    },

    async countByVersion() {
      const rows = await database.query<{ version: number; count: number }>(
        'SELECT key_version AS version, count(*)::int AS count FROM plinth.secrets GROUP BY key_version ORDER BY key_version',
      );
      return new Map(rows.map((row) => [Number(row.version), Number(row.count)]));
    },
  };
}
