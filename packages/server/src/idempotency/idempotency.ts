import { createHash } from 'node:crypto';
import { queryRoute, type Route, wireHeaders } from '@plinth/protocol';
import type { Database, Queryable } from '../database/database.js';
import type { Caller } from '../http/caller.js';
import { HttpError } from '../http/http-error.js';

/** How long an answer is replayed to a retry with the same key. */
export const answerLifetimeMs = 24 * 60 * 60 * 1000;

/**
 * How long a claim (the "running" mark) outlives a server that died holding it. The answer's
 * primary key, not the claim, is what stops a second commit, so this only bounds how long
 * retries of a call cut by a crash are answered 409.
 */
export const claimLifetimeMs = 5 * 60 * 1000;

/**
 * How soon a claim whose release failed (the database down) is tried again, doubling per
 * failure up to {@link releaseRetryMaxMs}, until it is gone or would have lapsed anyway.
 */
const releaseRetryFirstMs = 250;

/** The longest wait between two tries of a failed release. */
const releaseRetryMaxMs = 2_000;

/** The longest key accepted, in characters. */
export const maxKeyLength = 255;

/** The answer headers worth replaying; never Set-Cookie (see {@link IdempotencyStore.finish}). */
const replayedHeaders = ['content-type', 'location'] as const;

/**
 * One call under an `Idempotency-Key`, claimed and running. The work either records its answer
 * in its own transaction ({@link IdempotencyScope.recordIn}), says it needs no record
 * ({@link IdempotencyScope.skip}, a select), or leaves the record to the app after it answered.
 */
export interface IdempotencyScope {
  readonly caller: string;
  readonly key: string;
  readonly fingerprint: string;
  /** True once the answer is in the work's own transaction. */
  readonly recorded: boolean;
  /** True when the work said it needs no record. */
  readonly skipped: boolean;
  /**
   * Records `answer` (a 200 JSON body) inside the data transaction `tx`, as its last statements:
   * `RESET ROLE` back to the data login role (the data roles cannot reach schema plinth), then
   * the insert. Nothing of the app's may run in `tx` after it.
   */
  recordIn(tx: Queryable, answer: unknown): Promise<void>;
  /** Marks the work as needing no record (a read). */
  skip(): void;
}

/** Where an idempotent call starts: an answer to replay, or a claimed scope to run in. */
export type IdempotencyStart = { readonly replay: Response } | { readonly scope: IdempotencyScope };

/** Idempotency-Key records, over the server's pool (claims, lookups) and data transactions (answers). */
export interface IdempotencyStore {
  /**
   * Looks the key up for `caller`: replays a stored answer, refuses a different request (422) or
   * one still running (409), or claims the key and answers the scope to run in.
   */
  begin(caller: string, key: string, fingerprint: string): Promise<IdempotencyStart>;
  /**
   * After the work answered: records the answer over the server's pool unless the work recorded
   * it (or skipped), and releases the claim. Only answers under 500 are kept, never one that sets
   * cookies (sessions are not replayed to whoever holds the key).
   */
  finish(scope: IdempotencyScope, answer: { status: number; headers: Headers; body: string | null }): Promise<void>;
  /**
   * Releases the claim of work that failed: nothing was done, so a retry runs it again. Never
   * throws: when the database cannot be reached, the release is kept and tried again in the
   * background (and first thing by a {@link IdempotencyStore.begin} of the same caller and key),
   * so the caller gets the work's own error, not the release's.
   */
  release(scope: IdempotencyScope): Promise<void>;
}

/**
 * The `Idempotency-Key` of a request, checked: absent is undefined; empty, over
 * {@link maxKeyLength} characters, or outside printable ASCII is a 400 naming the header.
 *
 * @example
 * ```ts
 * idempotencyKeyOf(new Request(url, { headers: { 'idempotency-key': 'order-42' } })); // 'order-42'
 * ```
 */
export function idempotencyKeyOf(request: Request): string | undefined {
  const key = request.headers.get(wireHeaders.idempotencyKey);
  if (key === null) return undefined;
  const problem =
    key.length === 0
      ? 'is empty'
      : key.length > maxKeyLength
        ? `is ${key.length} characters long, over ${maxKeyLength}`
        : /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(key)
          ? undefined
          : 'holds characters outside printable ASCII';
  if (!problem) return key;
  throw new HttpError(
    'validation_failed',
    `Idempotency-Key ${problem}: send 1 to ${maxKeyLength} printable ASCII characters, one random key per logical call (a UUID).`,
    { field: 'Idempotency-Key', header: wireHeaders.idempotencyKey },
  );
}

/**
 * Who owns a key: keys are per caller, so one caller's key never replays another's answer.
 * Undefined for anonymous callers, who have no identity to keep a key under.
 *
 * @example
 * ```ts
 * idempotencyOwner({ kind: 'user', userId: 'u1', sessionId: 's1' }); // 'user:u1'
 * ```
 */
export function idempotencyOwner(caller: Caller): string | undefined {
  if (caller.kind === 'user') return `user:${caller.userId}`;
  if (caller.kind !== 'service') return undefined;
  // A scoped API key is a caller of its own; the service key is one caller.
  return caller.apiKey ? `key:${caller.apiKey.id}` : 'service';
}

/**
 * True for a call that changes nothing and so needs no claim and no record: a select on
 * `/v1/query` (the SDK sends a key on every query call; a read costs no extra round trip for it).
 *
 * @example
 * ```ts
 * readsOnly(queryRoute, { table: 'posts', op: 'select' }); // true
 * ```
 */
export function readsOnly(route: Pick<Route, 'method' | 'path'>, input: unknown): boolean {
  return (
    route.method === queryRoute.method &&
    route.path === queryRoute.path &&
    (input as { op?: unknown } | undefined)?.op === 'select'
  );
}

/**
 * What makes two calls "the same request": the route, the act-as header (a call as another
 * user is another request) and the validated input.
 *
 * @example
 * ```ts
 * requestFingerprint('POST /v1/query', null, { table: 'posts', op: 'insert', values: { title: 'a' } });
 * ```
 */
export function requestFingerprint(route: string, actAs: string | null, input: unknown): string {
  return createHash('sha256')
    .update(`${route}\n${actAs ?? ''}\n${JSON.stringify(input)}`)
    .digest('base64url');
}

const reused = () =>
  new HttpError(
    'idempotency_key_reused',
    'Idempotency-Key was already used for a different request: a retry must send the same body, path and act-as header; a new call needs a new key.',
    { field: 'Idempotency-Key' },
  );

const running = () =>
  new HttpError(
    'conflict',
    'A call with this Idempotency-Key is still running; wait for its answer, or retry this one in a moment to get it replayed.',
    { field: 'Idempotency-Key' },
  );

/**
 * Which claim a scope holds: its expiry as written (exact to the microsecond, in UTC), so that
 * a late release never removes a newer claim made once this one lapsed; and when it lapses, by
 * this process's monotonic clock (read before the claim was made, so never after the database's).
 */
interface Claim {
  readonly expiresAt: string | undefined;
  readonly lapsesAt: number;
}

/** A release that failed, kept until it succeeds or its claim lapses. */
interface PendingRelease {
  readonly id: string;
  readonly scope: IdempotencyScope;
  readonly claim: Claim;
  failures: number;
  timer?: ReturnType<typeof setTimeout>;
  attempt?: Promise<void> | undefined;
}

interface StoredAnswer {
  fingerprint: string;
  status: number;
  headers: Record<string, string>;
  body: string | null;
  expired: boolean;
}

/**
 * The {@link IdempotencyStore} over `database`. Expired answers and claims are swept at most once
 * a minute, on a claim, a bounded batch at a time. A release the database refused is kept in
 * memory and tried again (see {@link IdempotencyStore.release}) until its claim lapses.
 *
 * @example
 * ```ts
 * const store = createIdempotencyStore(database);
 * const start = await store.begin('service', 'order-42', fingerprint);
 * ```
 */
export function createIdempotencyStore(database: Database): IdempotencyStore {
  let nextSweep = 0;
  const claims = new WeakMap<IdempotencyScope, Claim>();
  // By caller and key: at most one claim of a caller's key is alive at a time.
  const pendingReleases = new Map<string, PendingRelease>();
  const releaseId = (caller: string, key: string) => JSON.stringify([caller, key]);

  async function deleteClaim(scope: IdempotencyScope, claim: Claim): Promise<void> {
    // The expiry goes as text: postgres.js would turn a timestamptz parameter into a Date,
    // dropping the microseconds that tell this claim from a newer one.
    await database.query(
      `DELETE FROM plinth.idempotency_claims
        WHERE caller = $1 AND key = $2 AND fingerprint = $3 AND ($4::text IS NULL OR expires_at = $4::text::timestamptz)`,
      [scope.caller, scope.key, scope.fingerprint, claim.expiresAt ?? null],
    );
  }

  /** Tries the pending release now (joining a try already running); throws what the database threw. */
  function attemptRelease(pending: PendingRelease): Promise<void> {
    if (pending.attempt) return pending.attempt;
    clearTimeout(pending.timer);
    const forget = () => {
      if (pendingReleases.get(pending.id) === pending) pendingReleases.delete(pending.id);
    };
    // A lapsed claim is anyone's to take over: nothing left to release.
    if (performance.now() >= pending.claim.lapsesAt) {
      forget();
      return Promise.resolve();
    }
    pending.attempt = deleteClaim(pending.scope, pending.claim).then(forget, (error: unknown) => {
      pending.attempt = undefined;
      pending.failures++;
      retryLater(pending);
      throw error;
    });
    return pending.attempt;
  }

  function retryLater(pending: PendingRelease): void {
    const wait = Math.min(releaseRetryFirstMs * 2 ** (pending.failures - 1), releaseRetryMaxMs);
    if (performance.now() + wait >= pending.claim.lapsesAt) {
      if (pendingReleases.get(pending.id) === pending) pendingReleases.delete(pending.id);
      return;
    }
    pendingReleases.set(pending.id, pending);
    // Unref'd, and every entry ends by its claim's lifetime: no close needed, nothing kept alive.
    pending.timer = setTimeout(() => attemptRelease(pending).catch(() => {}), wait);
    pending.timer.unref?.();
  }

  const replay = (answer: StoredAnswer): Response =>
    new Response(answer.body, {
      status: answer.status,
      headers: { ...answer.headers, [wireHeaders.idempotentReplayed]: 'true' },
    });

  async function sweep(): Promise<void> {
    if (Date.now() < nextSweep) return;
    nextSweep = Date.now() + 60_000;
    for (const table of ['idempotency_answers', 'idempotency_claims']) {
      await database.query(
        `DELETE FROM plinth.${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM plinth.${table} WHERE expires_at < now() LIMIT 1000))`,
      );
    }
  }

  async function storedAnswer(caller: string, key: string): Promise<StoredAnswer | undefined> {
    // jsonb read as text: the drivers would otherwise differ on what they hand back.
    const [row] = await database.query<Omit<StoredAnswer, 'headers'> & { headers: string }>(
      `SELECT fingerprint, status, headers::text AS headers, body, expires_at <= now() AS expired
         FROM plinth.idempotency_answers WHERE caller = $1 AND key = $2`,
      [caller, key],
    );
    return row && { ...row, headers: JSON.parse(row.headers) as Record<string, string> };
  }

  function scopeFor(caller: string, key: string, fingerprint: string): IdempotencyScope {
    const state = { recorded: false, skipped: false };
    return {
      caller,
      key,
      fingerprint,
      get recorded() {
        return state.recorded;
      },
      get skipped() {
        return state.skipped;
      },
      skip: () => {
        state.skipped = true;
      },
      async recordIn(tx, answer) {
        await tx.query('RESET ROLE');
        await tx.query(
          `INSERT INTO plinth.idempotency_answers (caller, key, fingerprint, status, headers, body, expires_at)
           VALUES ($1, $2, $3, 200, $4::text::jsonb, $5, now() + $6 * interval '1 millisecond')`,
          [
            caller,
            key,
            fingerprint,
            JSON.stringify({ 'content-type': 'application/json' }),
            JSON.stringify(answer),
            answerLifetimeMs,
          ],
        );
        state.recorded = true;
      },
    };
  }

  return {
    async begin(caller, key, fingerprint) {
      // This caller's earlier call with the key failed and its claim could not be released (the
      // database was down): release it first, or this retry would be refused as still running.
      // If the database is still down that throws, and the caller gets 503 with Retry-After.
      const pending = pendingReleases.get(releaseId(caller, key));
      if (pending) await attemptRelease(pending);
      let stored = await storedAnswer(caller, key);
      if (stored?.expired) {
        // Gone for callers, but its primary key would refuse the new call's record.
        await database.query(
          'DELETE FROM plinth.idempotency_answers WHERE caller = $1 AND key = $2 AND expires_at <= now()',
          [caller, key],
        );
        stored = undefined;
      }
      if (stored) {
        if (stored.fingerprint !== fingerprint) throw reused();
        return { replay: replay(stored) };
      }
      await sweep();
      const lapsesAt = performance.now() + claimLifetimeMs;
      // A claim left by a server that died is taken over once it has lapsed.
      const [claimed] = await database.query<{ expires_at: string }>(
        `INSERT INTO plinth.idempotency_claims AS c (caller, key, fingerprint, expires_at)
         VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
         ON CONFLICT (caller, key) DO UPDATE SET fingerprint = excluded.fingerprint, expires_at = excluded.expires_at
           WHERE c.expires_at <= now()
         RETURNING to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS expires_at`,
        [caller, key, fingerprint, claimLifetimeMs],
      );
      if (!claimed) {
        // Another call holds the key, or has just finished with it.
        const finished = await storedAnswer(caller, key);
        if (finished && !finished.expired) {
          if (finished.fingerprint !== fingerprint) throw reused();
          return { replay: replay(finished) };
        }
        const [holder] = await database.query<{ fingerprint: string }>(
          'SELECT fingerprint FROM plinth.idempotency_claims WHERE caller = $1 AND key = $2',
          [caller, key],
        );
        if (holder && holder.fingerprint !== fingerprint) throw reused();
        throw running();
      }
      const scope = scopeFor(caller, key, fingerprint);
      claims.set(scope, { expiresAt: claimed.expires_at, lapsesAt });
      return { scope };
    },

    async finish(scope, answer) {
      try {
        if (!scope.recorded && !scope.skipped && answer.status < 500 && !answer.headers.has('set-cookie')) {
          const headers: Record<string, string> = {};
          for (const name of replayedHeaders) {
            const value = answer.headers.get(name);
            if (value !== null) headers[name] = value;
          }
          await database.query(
            `INSERT INTO plinth.idempotency_answers (caller, key, fingerprint, status, headers, body, expires_at)
             VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, now() + $7 * interval '1 millisecond')
             ON CONFLICT (caller, key) DO NOTHING`,
            [
              scope.caller,
              scope.key,
              scope.fingerprint,
              answer.status,
              JSON.stringify(headers),
              answer.body,
              answerLifetimeMs,
            ],
          );
        }
      } finally {
        await this.release(scope);
      }
    },

    async release(scope) {
      // A scope this store did not make (none in the server) is released by its fingerprint.
      const claim = claims.get(scope) ?? { expiresAt: undefined, lapsesAt: performance.now() + claimLifetimeMs };
      try {
        await deleteClaim(scope, claim);
      } catch {
        // Kept and tried again rather than thrown: the work's error is the caller's answer, and
        // a claim left behind would refuse the caller's retry (409) for the claim's lifetime.
        retryLater({ id: releaseId(scope.caller, scope.key), scope, claim, failures: 1 });
      }
    },
  };
}
