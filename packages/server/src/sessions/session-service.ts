import { createHmac } from 'node:crypto';
import { usersRepository } from '../accounts/users-repository.js';
import type { AccessTokens } from '../auth/access-token.js';
import { createOpaqueToken, hashOpaqueToken } from '../auth/opaque-token.js';
import type { Database, Queryable } from '../database/database.js';
import type { UserCaller } from '../http/caller.js';
import type { RequestContext } from '../http/request-context.js';
import { deviceLabel } from './device-label.js';
import type { SessionCheckCache } from './session-check-cache.js';

/** What a client gets when a session starts or is refreshed. */
export interface IssuedSession {
  userId: string;
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  /** Seconds since the epoch at which the access token expires. */
  expiresAt: number;
}

/** Why a refresh was refused. Each is a 401 `session_expired` to the client. */
export type RefreshRefusal = 'unknown' | 'revoked' | 'expired' | 'reused';

export interface SessionServiceOptions {
  database: Database;
  accessTokens: AccessTokens;
  refreshSecret: Buffer;
  /** How long a used refresh token still answers with its successor (concurrent tabs, retries). Default 10 s. */
  reuseGraceSeconds?: number;
  /** The absolute lifetime of a session, however often it is refreshed. Default 30 days. */
  absoluteLifetimeSeconds?: number;
  /** Remembers recent session checks; every revocation below forgets what it affects. */
  checkCache?: SessionCheckCache;
}

interface TokenRow {
  session_id: string;
  user_id: string;
  generation: number;
  used_at: Date | string | null;
  revoked_at: Date | string | null;
  not_after: Date | string;
  now: Date | string;
}

const epochSeconds = (value: Date | string) => Math.floor(new Date(value).getTime() / 1000);
const refreshPrefix = 'rt_';

/**
 * Sessions: one per sign-in, each the family of its refresh tokens.
 *
 * A refresh token's successor is `HMAC(refreshSecret, token)`, so a refresh repeated within the
 * grace window recomputes the very same successor without the server ever storing a token in
 * the clear; with the access token re-issued from the same `iat` and `jti` (EdDSA is
 * deterministic), concurrent refreshes get identical answers. Every refresh is one transaction
 * holding the token's row `FOR UPDATE`, so exactly one of them rotates.
 *
 * @example
 * ```ts
 * const sessions = createSessionService({ database, accessTokens, refreshSecret });
 * const issued = await sessions.start(user.id);
 * ```
 */
export function createSessionService(options: SessionServiceOptions) {
  const { database, accessTokens, refreshSecret, checkCache } = options;
  const grace = options.reuseGraceSeconds ?? 10;
  const lifetime = options.absoluteLifetimeSeconds ?? 30 * 24 * 3600;
  const users = usersRepository(database);

  const successorOf = (token: string) =>
    refreshPrefix + createHmac('sha256', refreshSecret).update(token).digest('base64url');

  async function answer(
    userId: string,
    sessionId: string,
    refreshToken: string,
    issuedAt: number,
  ): Promise<IssuedSession> {
    const jti = hashOpaqueToken(refreshToken).slice(0, 32);
    const { token, expiresAt } = await accessTokens.issue({ userId, sessionId, issuedAt, jti });
    return { userId, sessionId, accessToken: token, refreshToken, expiresAt: Math.floor(expiresAt.getTime() / 1000) };
  }

  async function revokeFamily(tx: Queryable, sessionId: string, reason: string) {
    await tx.query(
      'UPDATE plinth.sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL',
      [sessionId, reason],
    );
  }

  return {
    /**
     * Starts a new session (a new id at every sign-in) with its first refresh token, recording
     * the address and user agent of `context`, the sign-in's request. `within` runs the inserts
     * in a transaction the caller already holds (an OAuth code exchange records the session on
     * the code in the same transaction).
     */
    async start(userId: string, context: RequestContext | undefined, within?: Queryable): Promise<IssuedSession> {
      const { token } = createOpaqueToken(refreshPrefix);
      const insert = async (tx: Queryable) => {
        const [session] = await tx.query<{ id: string }>(
          `INSERT INTO plinth.sessions (user_id, not_after, ip, user_agent)
           VALUES ($1, now() + make_interval(secs => $2), $3, $4) RETURNING id`,
          [userId, lifetime, ...seenFrom(context)],
        );
        if (!session) throw new Error('session insert returned nothing');
        return tx.query<{ id: string; issued_at: Date | string }>(
          `INSERT INTO plinth.refresh_tokens (token_hash, session_id, generation) VALUES ($1, $2, 0)
           RETURNING session_id AS id, issued_at`,
          [hashOpaqueToken(token), session.id],
        );
      };
      const [row] = within ? await insert(within) : await database.transaction(insert);
      if (!row) throw new Error('refresh token insert returned nothing');
      return answer(userId, row.id, token, epochSeconds(row.issued_at));
    },

    /**
     * Trades a refresh token for the next one: rotation, grace-window repeat, or family
     * revocation. The session moves to the address and user agent of `context`, if known.
     */
    async refresh(
      refreshToken: string,
      context: RequestContext | undefined,
    ): Promise<IssuedSession | { refused: RefreshRefusal }> {
      let revokedSession: string | undefined;
      const outcome = await database.transaction(async (tx) => {
        const [row] = await tx.query<TokenRow>(
          `SELECT t.session_id, s.user_id, t.generation, t.used_at, s.revoked_at, s.not_after, now() AS now
             FROM plinth.refresh_tokens t JOIN plinth.sessions s ON s.id = t.session_id
            WHERE t.token_hash = $1
              FOR UPDATE OF t, s`,
          [hashOpaqueToken(refreshToken)],
        );
        const status = row && (await usersRepository(tx).status(row.user_id));
        if (!row || status === undefined) return { refused: 'unknown' as const };
        if (row.revoked_at !== null || status === 'disabled') return { refused: 'revoked' as const };
        const now = epochSeconds(row.now);
        if (epochSeconds(row.not_after) <= now) return { refused: 'expired' as const };
        const successor = successorOf(refreshToken);
        if (row.used_at !== null) {
          if (now - epochSeconds(row.used_at) > grace) {
            // A token used long ago came back: it was stolen, or the thief already used it.
            await revokeFamily(tx, row.session_id, 'refresh_token_reuse');
            revokedSession = row.session_id;
            return { refused: 'reused' as const };
          }
          const [next] = await tx.query<{ issued_at: Date | string }>(
            'SELECT issued_at FROM plinth.refresh_tokens WHERE token_hash = $1',
            [hashOpaqueToken(successor)],
          );
          if (!next) return { refused: 'unknown' as const };
          return answer(row.user_id, row.session_id, successor, epochSeconds(next.issued_at));
        }
        await tx.query('UPDATE plinth.refresh_tokens SET used_at = now() WHERE token_hash = $1', [
          hashOpaqueToken(refreshToken),
        ]);
        const [next] = await tx.query<{ issued_at: Date | string }>(
          `INSERT INTO plinth.refresh_tokens (token_hash, session_id, generation) VALUES ($1, $2, $3) RETURNING issued_at`,
          [hashOpaqueToken(successor), row.session_id, row.generation + 1],
        );
        // Where it was used from last: a refresh from elsewhere moves it (coalesce keeps what was
        // known when a refresh has no request, as in tests).
        await tx.query(
          'UPDATE plinth.sessions SET refreshed_at = now(), ip = coalesce($2, ip), user_agent = coalesce($3, user_agent) WHERE id = $1',
          [row.session_id, ...seenFrom(context)],
        );
        if (!next) throw new Error('refresh token insert returned nothing');
        return answer(row.user_id, row.session_id, successor, epochSeconds(next.issued_at));
      });
      // After the commit: a check that read the session before it could otherwise be remembered.
      if (revokedSession !== undefined) checkCache?.forgetSession(revokedSession);
      return outcome;
    },

    /**
     * The user behind an access token, if the token is valid and its session still active. The
     * revocation check and the user's record are one query: every session request pays it.
     */
    async authenticate(accessToken: string): Promise<UserCaller | undefined> {
      const remembered = checkCache?.recall(accessToken);
      if (remembered !== undefined) return remembered;
      const verified = await accessTokens.verify(accessToken);
      if (!verified.ok) return undefined;
      const readAt = checkCache?.epoch() ?? 0;
      const profile = await users.findBySession(verified.claims.sid, verified.claims.sub);
      if (!profile) return undefined;
      const caller: UserCaller = { kind: 'user', userId: verified.claims.sub, sessionId: verified.claims.sid, profile };
      checkCache?.remember(accessToken, caller, verified.claims.exp * 1000, readAt);
      return caller;
    },

    /** Revokes this session, the user's other sessions, or all of them; returns how many. */
    async revoke(caller: UserCaller, scope: 'local' | 'others' | 'global', reason = 'sign_out'): Promise<number> {
      const condition = scope === 'local' ? 'id = $2' : scope === 'others' ? 'id <> $2' : '$2::uuid IS NOT NULL';
      const rows = await database.query(
        `UPDATE plinth.sessions SET revoked_at = now(), revoked_reason = $3
          WHERE user_id = $1 AND revoked_at IS NULL AND ${condition} RETURNING id`,
        [caller.userId, caller.sessionId, reason],
      );
      checkCache?.forgetUser(caller.userId);
      return rows.length;
    },

    /**
     * Revokes one session, only if it belongs to `userId` when that is given; true if it was
     * active.
     */
    async revokeOne(sessionId: string, reason: string, userId?: string, within?: Queryable): Promise<boolean> {
      const rows = await (within ?? database).query(
        `UPDATE plinth.sessions SET revoked_at = now(), revoked_reason = $2
          WHERE id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3) RETURNING id`,
        [sessionId, reason, userId ?? null],
      );
      if (within === undefined) checkCache?.forgetSession(sessionId);
      return rows.length > 0;
    },

    /**
     * Forgets remembered session checks of a user whose record changed (verified, disabled,
     * deleted), or of one session revoked inside a caller's transaction. Call it after the
     * change committed.
     */
    changed(change: { userId: string } | { sessionId: string }): void {
      if ('userId' in change) checkCache?.forgetUser(change.userId);
      else checkCache?.forgetSession(change.sessionId);
    },

    /** Revokes every session of a user (password change or reset, disable, delete). */
    async revokeAll(userId: string, reason: string): Promise<number> {
      const rows = await database.query(
        'UPDATE plinth.sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL RETURNING id',
        [userId, reason],
      );
      checkCache?.forgetUser(userId);
      return rows.length;
    },
  };
}

/** The address and user agent of a request, as a session records them. */
const seenFrom = (context: RequestContext | undefined): [string | null, string | null] => [
  context?.ip ?? null,
  context?.userAgent ?? null,
];

/** An active session as the lists of sessions show it (a user's own, an admin's). */
export interface ActiveSession {
  id: string;
  createdAt: string;
  /** When it was last seen: its sign-in or last refresh (access tokens are checked without writing). */
  refreshedAt: string;
  ip: string | null;
  userAgent: string | null;
  /** `Chrome on macOS`: a readable guess from the user agent. */
  device: string;
}

/**
 * A user's active sessions (not revoked, not past their lifetime), newest first.
 *
 * @example
 * ```ts
 * const sessions = await activeSessions(database, userId);
 * ```
 */
export async function activeSessions(db: Queryable, userId: string): Promise<ActiveSession[]> {
  const rows = await db.query<{
    id: string;
    created_at: Date | string;
    refreshed_at: Date | string;
    ip: string | null;
    user_agent: string | null;
  }>(
    `SELECT id, created_at, refreshed_at, ip, user_agent FROM plinth.sessions
      WHERE user_id = $1 AND revoked_at IS NULL AND not_after > now() ORDER BY created_at DESC`,
    [userId],
  );
  return rows.map((row) => ({
    id: row.id,
    createdAt: new Date(row.created_at).toISOString(),
    refreshedAt: new Date(row.refreshed_at).toISOString(),
    ip: row.ip,
    userAgent: row.user_agent,
    device: deviceLabel(row.user_agent),
  }));
}

/** The session service. */
export type SessionService = ReturnType<typeof createSessionService>;
