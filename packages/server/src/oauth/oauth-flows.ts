import { randomBytes } from 'node:crypto';
import { usersRepository } from '../accounts/users-repository.js';
import { createOpaqueToken, hashOpaqueToken } from '../auth/opaque-token.js';
import { codeChallengeS256, verifyPkce } from '../auth/pkce.js';
import type { Database, Queryable } from '../database/database.js';
import type { RequestContext } from '../http/request-context.js';
import type { IssuedSession, SessionService } from '../sessions/session-service.js';

/** How long a sign-in may spend at the provider (login, second factor, consent). ≤ 10 min (docs/security.md). */
export const oauthFlowTtlSeconds = 600;
/** How long the app has to exchange a Plinth code: it does so on landing. ≤ 10 min (docs/security.md). */
export const oauthCodeTtlSeconds = 300;
// Used codes are kept this long after they expire, so that a late replay is still recognised.
const usedCodeRetentionSeconds = 24 * 3600;

/** What the app sent to the authorize route: where to return, its state, its PKCE challenge. */
export interface AppLeg {
  provider: string;
  redirectTo: string;
  appState: string;
  codeChallenge: string;
}

/** The server's secrets for one flow. Only hashes of `state` and `browserSecret` are stored. */
export interface FlowSecrets {
  /** Sent to the provider and back; finds the flow at the callback. */
  state: string;
  /** Kept in a cookie of the browser that started the flow; the callback must bring it. */
  browserSecret: string;
  /** The server's PKCE verifier toward the provider. */
  providerVerifier: string;
  /** Its S256 challenge, sent in the authorization request. */
  providerChallenge: string;
  nonce: string;
}

/** A flow as the callback reads it (the row is deleted as it is read). */
export interface FlowRecord {
  provider: string;
  redirectTo: string;
  appState: string;
  codeChallenge: string;
  providerVerifier: string;
  nonce: string;
}

const random = () => randomBytes(32).toString('base64url');

/**
 * Fresh secrets for a flow, all from the CSPRNG (256 bits each).
 *
 * @example
 * ```ts
 * const secrets = newFlowSecrets();
 * ```
 */
export function newFlowSecrets(): FlowSecrets {
  const providerVerifier = random();
  return {
    state: random(),
    browserSecret: random(),
    providerVerifier,
    providerChallenge: codeChallengeS256(providerVerifier),
    nonce: random(),
  };
}

/**
 * Stores a flow for {@link oauthFlowTtlSeconds}, and clears out flows and codes long expired.
 *
 * @example
 * ```ts
 * await saveFlow(database, { provider, redirectTo, appState, codeChallenge }, secrets);
 * ```
 */
export async function saveFlow(db: Queryable, app: AppLeg, secrets: FlowSecrets): Promise<void> {
  await db.query('DELETE FROM plinth.oauth_flows WHERE expires_at < now()');
  await db.query('DELETE FROM plinth.oauth_codes WHERE expires_at < now() - make_interval(secs => $1)', [
    usedCodeRetentionSeconds,
  ]);
  await db.query(
    `INSERT INTO plinth.oauth_flows (state_hash, browser_hash, provider, redirect_to, app_state, code_challenge,
       code_challenge_method, provider_verifier, nonce, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'S256', $7, $8, now() + make_interval(secs => $9))`,
    [
      hashOpaqueToken(secrets.state),
      hashOpaqueToken(secrets.browserSecret),
      app.provider,
      app.redirectTo,
      app.appState,
      app.codeChallenge,
      secrets.providerVerifier,
      secrets.nonce,
      oauthFlowTtlSeconds,
    ],
  );
}

/**
 * Uses up a flow at the callback: found by the provider's returned `state`, for this provider,
 * from the browser that started it (its cookie), not expired. One `DELETE … RETURNING`, so a
 * callback replayed or raced gets nothing the second time.
 *
 * @example
 * ```ts
 * const flow = await consumeFlow(database, { provider: 'google', state, browserSecret });
 * ```
 */
export async function consumeFlow(
  db: Queryable,
  presented: { provider: string; state: string; browserSecret: string },
): Promise<FlowRecord | undefined> {
  const [row] = await db.query<{
    provider: string;
    redirect_to: string;
    app_state: string;
    code_challenge: string;
    provider_verifier: string;
    nonce: string;
  }>(
    `DELETE FROM plinth.oauth_flows
      WHERE state_hash = $1 AND browser_hash = $2 AND provider = $3 AND expires_at > now()
      RETURNING provider, redirect_to, app_state, code_challenge, provider_verifier, nonce`,
    [hashOpaqueToken(presented.state), hashOpaqueToken(presented.browserSecret), presented.provider],
  );
  if (!row) return undefined;
  return {
    provider: row.provider,
    redirectTo: row.redirect_to,
    appState: row.app_state,
    codeChallenge: row.code_challenge,
    providerVerifier: row.provider_verifier,
    nonce: row.nonce,
  };
}

/**
 * Issues the Plinth authorization code the app exchanges: opaque, 256 bits, stored hashed, single
 * use, {@link oauthCodeTtlSeconds}, bound to the flow's PKCE challenge and redirect URL.
 *
 * @example
 * ```ts
 * const code = await issueOAuthCode(database, { userId, provider: flow.provider, codeChallenge: flow.codeChallenge, redirectTo: flow.redirectTo });
 * ```
 */
export async function issueOAuthCode(
  db: Queryable,
  grant: { userId: string; provider: string; codeChallenge: string; redirectTo: string },
): Promise<string> {
  const { token, hash } = createOpaqueToken('oc_');
  await db.query(
    `INSERT INTO plinth.oauth_codes (code_hash, user_id, provider, code_challenge, code_challenge_method, redirect_to, expires_at)
     VALUES ($1, $2, $3, $4, 'S256', $5, now() + make_interval(secs => $6))`,
    [hash, grant.userId, grant.provider, grant.codeChallenge, grant.redirectTo, oauthCodeTtlSeconds],
  );
  return token;
}

/** Why an exchange was refused. Each is the same 401 to the client. */
export type CodeRefusal = 'unknown' | 'expired' | 'verifier' | 'disabled' | 'replayed';

/** The outcome of {@link redeemOAuthCode}. */
export type Redemption =
  | { ok: true; userId: string; provider: string; issued: IssuedSession }
  | { ok: false; refused: CodeRefusal; userId?: string; revokedSession?: boolean };

/**
 * Exchanges a Plinth code and its PKCE verifier for a new session, in one transaction holding the
 * code's row `FOR UPDATE`: exactly one of two racing exchanges wins. A code that was already
 * used revokes the session its first exchange started (RFC 6749 §4.1.2, docs/security.md: "a replayed
 * code revokes what it issued"), whoever replays it. A wrong verifier leaves the code usable by
 * the right one until it expires. The session records the address and user agent of `context`.
 *
 * @example
 * ```ts
 * const result = await redeemOAuthCode(database, sessions, { code, codeVerifier }, context);
 * ```
 */
export async function redeemOAuthCode(
  database: Database,
  sessions: SessionService,
  presented: { code: string; codeVerifier: string },
  context: RequestContext | undefined,
): Promise<Redemption> {
  let revokedSessionId: string | undefined;
  const redemption = await database.transaction(async (tx): Promise<Redemption> => {
    const [row] = await tx.query<{
      user_id: string;
      provider: string;
      code_challenge: string;
      code_challenge_method: string;
      used_at: unknown;
      session_id: string | null;
      live: boolean;
    }>(
      `SELECT user_id, provider, code_challenge, code_challenge_method, used_at, session_id,
              expires_at > now() AS live
         FROM plinth.oauth_codes
        WHERE code_hash = $1
          FOR UPDATE`,
      [hashOpaqueToken(presented.code)],
    );
    const status = row && (await usersRepository(tx).status(row.user_id));
    if (!row || status === undefined) return { ok: false, refused: 'unknown' };
    if (row.used_at !== null) {
      const revoked = row.session_id
        ? await sessions.revokeOne(row.session_id, 'oauth_code_replay', undefined, tx)
        : false;
      if (revoked && row.session_id) revokedSessionId = row.session_id;
      return { ok: false, refused: 'replayed', userId: row.user_id, revokedSession: revoked };
    }
    if (!row.live) return { ok: false, refused: 'expired', userId: row.user_id };
    const pkce = { codeVerifier: presented.codeVerifier, codeChallenge: row.code_challenge };
    if (!verifyPkce({ ...pkce, method: row.code_challenge_method }))
      return { ok: false, refused: 'verifier', userId: row.user_id };
    if (status === 'disabled') return { ok: false, refused: 'disabled', userId: row.user_id };
    const issued = await sessions.start(row.user_id, context, tx);
    await tx.query('UPDATE plinth.oauth_codes SET used_at = now(), session_id = $2 WHERE code_hash = $1', [
      hashOpaqueToken(presented.code),
      issued.sessionId,
    ]);
    return { ok: true, userId: row.user_id, provider: row.provider, issued };
  });
  // After the commit, so no session check racing the revocation is remembered past it.
  if (revokedSessionId !== undefined) sessions.changed({ sessionId: revokedSessionId });
  return redemption;
}

/**
 * The name of the cookie that binds a flow to its browser: one per flow (named from a hash of its
 * state), so two sign-ins in two tabs do not overwrite each other's.
 *
 * @example
 * ```ts
 * flowCookieName(state, true); // '__Host-plinth-oauth-3f2a…'
 * ```
 */
export function flowCookieName(state: string, secure: boolean): string {
  return `${secure ? '__Host-' : ''}plinth-oauth-${hashOpaqueToken(state).slice(0, 16)}`;
}

/**
 * The `Set-Cookie` that binds a flow to the browser (HttpOnly, SameSite=Lax so it comes back on
 * the provider's top-level redirect, as long as the flow), or that deletes it (`value` empty).
 *
 * @example
 * ```ts
 * headers.append('set-cookie', flowCookie(state, secrets.browserSecret, true));
 * ```
 */
export function flowCookie(state: string, value: string, secure: boolean): string {
  const maxAge = value ? oauthFlowTtlSeconds : 0;
  return `${flowCookieName(state, secure)}=${value}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}; Max-Age=${maxAge}`;
}
