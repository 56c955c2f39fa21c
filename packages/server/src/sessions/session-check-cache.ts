import type { UserCaller } from '../http/caller.js';

/** The channel the database announces session and user changes on (see schema/006-auth-changes.sql). */
export const authChangesChannel = 'plinth_auth_changes';

export interface SessionCheckCacheOptions {
  /**
   * The longest an answer is kept, in ms. Revocations reach the cache at once through
   * {@link SessionCheckCache.forgetSession} and the database's notifications; this bound only
   * matters if a notification was lost without the listening connection noticing. Default 2000.
   */
  ttlMs?: number;
  /** Entries kept at most; the oldest go first. Default 10 000. */
  maxEntries?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

interface Entry {
  readonly caller: UserCaller;
  readonly until: number;
}

/**
 * A short-lived memory of successful session checks (access token → the caller it proved), so
 * that a burst of requests with one token costs one signature check and one query.
 *
 * Correctness rests on three rules:
 * - anything that revokes a session or changes a user forgets the affected entries, both where
 *   it happens (synchronously, before the change is answered) and on every other instance
 *   (the database's `NOTIFY` on `plinth_auth_changes`);
 * - an answer read from the database is remembered only if nothing was forgotten while it was
 *   being read (the epoch check), so a check racing a revocation cannot bring a revoked session
 *   back;
 * - while the notification channel is down (`setLive(false)`), nothing is remembered.
 *
 * @example
 * ```ts
 * const cache = createSessionCheckCache();
 * const epoch = cache.epoch();
 * const caller = await checkInDatabase(token);
 * cache.remember(token, caller, tokenExpiresAtMs, epoch);
 * cache.recall(token); // caller, until revoked, expired or 2 s old
 * ```
 */
export function createSessionCheckCache(options: SessionCheckCacheOptions = {}) {
  const ttl = options.ttlMs ?? 2000;
  const max = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // Tokens by session and by user: a revocation (every refresh announces one) forgets its
  // entries without scanning the whole cache.
  const bySession = new Map<string, Set<string>>();
  const byUser = new Map<string, Set<string>>();
  let epoch = 0;
  let live = false;

  const index = (map: Map<string, Set<string>>, key: string, token: string) => {
    const tokens = map.get(key);
    if (tokens) tokens.add(token);
    else map.set(key, new Set([token]));
  };
  const unindex = (map: Map<string, Set<string>>, key: string, token: string) => {
    const tokens = map.get(key);
    if (!tokens) return;
    tokens.delete(token);
    if (tokens.size === 0) map.delete(key);
  };
  const drop = (token: string) => {
    const entry = entries.get(token);
    if (!entry) return;
    entries.delete(token);
    unindex(bySession, entry.caller.sessionId, token);
    unindex(byUser, entry.caller.userId, token);
  };
  const forgetAllOf = (map: Map<string, Set<string>>, key: string) => {
    epoch++;
    for (const token of [...(map.get(key) ?? [])]) drop(token);
  };
  const clear = () => {
    epoch++;
    entries.clear();
    bySession.clear();
    byUser.clear();
  };

  return {
    /** The caller a token proved, if remembered and still fresh. */
    recall(token: string): UserCaller | undefined {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (entry.until <= now()) {
        drop(token);
        return undefined;
      }
      return entry.caller;
    },

    /** A mark to take before reading the database, for {@link remember}. */
    epoch(): number {
      return epoch;
    },

    /**
     * Remembers what a token proved, until `expiresAtMs` (the token's own `exp`) or the TTL,
     * whichever is first, unless something was forgotten since `readAt` was taken.
     */
    remember(token: string, caller: UserCaller, expiresAtMs: number, readAt: number): void {
      if (!live || readAt !== epoch) return;
      drop(token);
      if (entries.size >= max) {
        const oldest = entries.keys().next();
        if (!oldest.done) drop(oldest.value);
      }
      entries.set(token, { caller, until: Math.min(expiresAtMs, now() + ttl) });
      index(bySession, caller.sessionId, token);
      index(byUser, caller.userId, token);
    },

    /** Forgets every answer about a session (revoked, refreshed, deleted). */
    forgetSession(sessionId: string): void {
      forgetAllOf(bySession, sessionId);
    },

    /** Forgets every answer about a user's sessions (profile changed, disabled, deleted). */
    forgetUser(userId: string): void {
      forgetAllOf(byUser, userId);
    },

    /** Forgets everything. */
    forgetAll(): void {
      clear();
    },

    /**
     * Whether change notifications are arriving. Turning it off forgets everything and stops
     * remembering; the listener turns it on once its connection is up (again).
     */
    setLive(value: boolean): void {
      live = value;
      clear();
    },

    /**
     * Applies one `plinth_auth_changes` payload: `s:<session id>` or `u:<user id>`; anything
     * else forgets everything (a newer server's message this one does not know).
     */
    applyNotification(payload: string): void {
      if (payload.startsWith('s:')) this.forgetSession(payload.slice(2));
      else if (payload.startsWith('u:')) this.forgetUser(payload.slice(2));
      else this.forgetAll();
    },

    /** How many answers are remembered (tests, metrics). */
    get size(): number {
      return entries.size;
    },
  };
}

/** The session-check cache. */
export type SessionCheckCache = ReturnType<typeof createSessionCheckCache>;
