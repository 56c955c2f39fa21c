import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseLocations } from '../../../../test/fixtures/test-database.js';
import { createAccessTokens } from '../../src/auth/access-token.js';
import { hashOpaqueToken } from '../../src/auth/opaque-token.js';
import type { Database } from '../../src/database/database.js';
import { openDatabase } from '../../src/database/open-database.js';
import { loadServerSecrets } from '../../src/sessions/server-secrets.js';
import { createSessionService, type IssuedSession, type SessionService } from '../../src/sessions/session-service.js';

describe.each(testDatabaseLocations().filter((l) => l.label !== 'PGlite (directory)'))(
  'sessions on $label',
  (location) => {
    let database: Database;
    let sessions: SessionService;
    let userId: string;

    beforeAll(async () => {
      database = await openDatabase(await location.create());
      const secrets = await loadServerSecrets(database);
      const accessTokens = createAccessTokens({
        ...secrets.signingKeys,
        issuer: 'https://plinth.test',
        audience: 'https://plinth.test',
        ttlSeconds: 900,
      });
      sessions = createSessionService({ database, accessTokens, refreshSecret: secrets.refreshSecret });
      const [user] = await database.query<{ id: string }>(
        `INSERT INTO plinth.users (email) VALUES ('ada@example.com') RETURNING id`,
      );
      userId = user?.id as string;
    }, 30_000);
    afterAll(() => database.close());

    const rotations = async (sessionId: string) =>
      Number(
        (
          await database.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM plinth.refresh_tokens WHERE session_id = $1',
            [sessionId],
          )
        )[0]?.n,
      ) - 1;

    it('a new session id at every sign-in; tokens stored only as hashes', async () => {
      const a = await sessions.start(userId, undefined);
      const b = await sessions.start(userId, undefined);
      expect(a.sessionId).not.toBe(b.sessionId);
      const stored = JSON.stringify(await database.query('SELECT * FROM plinth.refresh_tokens'));
      expect(stored).not.toContain(a.refreshToken);
      expect(stored).toContain(hashOpaqueToken(a.refreshToken));
      expect(a.refreshToken).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    });

    it('50 concurrent refreshes of one token: exactly 1 rotation, 50 identical answers', async () => {
      const started = await sessions.start(userId, undefined);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => sessions.refresh(started.refreshToken, undefined)),
      );
      expect(await rotations(started.sessionId)).toBe(1);
      const first = answers[0] as IssuedSession;
      expect(first.refreshToken).not.toBe(started.refreshToken);
      for (const answer of answers) expect(answer).toEqual(first);
      expect(await sessions.authenticate(first.accessToken)).toMatchObject({
        kind: 'user',
        userId,
        sessionId: started.sessionId,
      });
    });

    it('the successor rotates in turn; the chain goes on', async () => {
      const started = await sessions.start(userId, undefined);
      const second = (await sessions.refresh(started.refreshToken, undefined)) as IssuedSession;
      const third = (await sessions.refresh(second.refreshToken, undefined)) as IssuedSession;
      expect(new Set([started.refreshToken, second.refreshToken, third.refreshToken]).size).toBe(3);
      expect(await rotations(started.sessionId)).toBe(2);
    });

    it('reuse after the grace window revokes the whole family', async () => {
      const started = await sessions.start(userId, undefined);
      const next = (await sessions.refresh(started.refreshToken, undefined)) as IssuedSession;
      await database.query(
        `UPDATE plinth.refresh_tokens SET used_at = now() - interval '11 seconds' WHERE token_hash = $1`,
        [hashOpaqueToken(started.refreshToken)],
      );
      expect(await sessions.refresh(started.refreshToken, undefined)).toEqual({ refused: 'reused' });
      // The thief's (or the victim's) newer token dies with the family, and so does its access token.
      expect(await sessions.refresh(next.refreshToken, undefined)).toEqual({ refused: 'revoked' });
      expect(await sessions.authenticate(next.accessToken)).toBeUndefined();
    });

    it('an absolute lifetime ends the session even if it keeps refreshing', async () => {
      const started = await sessions.start(userId, undefined);
      await database.query(`UPDATE plinth.sessions SET not_after = now() - interval '1 second' WHERE id = $1`, [
        started.sessionId,
      ]);
      expect(await sessions.refresh(started.refreshToken, undefined)).toEqual({ refused: 'expired' });
      expect(await sessions.authenticate(started.accessToken)).toBeUndefined();
    });

    it('an unknown or tampered refresh token is refused', async () => {
      const started = await sessions.start(userId, undefined);
      expect(await sessions.refresh(`${started.refreshToken}x`, undefined)).toEqual({ refused: 'unknown' });
      expect(await sessions.refresh('rt_nothing', undefined)).toEqual({ refused: 'unknown' });
    });

    it('sign-out scopes: local, others, global; revoked sessions stop authenticating', async () => {
      const [one, two, three] = await Promise.all([
        sessions.start(userId, undefined),
        sessions.start(userId, undefined),
        sessions.start(userId, undefined),
      ]);
      if (!one || !two || !three) throw new Error('sessions did not start');
      const as = (s: IssuedSession) => ({ kind: 'user' as const, userId, sessionId: s.sessionId });
      expect(await sessions.revoke(as(one), 'local')).toBe(1);
      expect(await sessions.authenticate(one.accessToken)).toBeUndefined();
      expect(await sessions.authenticate(two.accessToken)).toMatchObject(as(two));
      const others = await sessions.revoke(as(two), 'others');
      expect(others).toBeGreaterThanOrEqual(1);
      expect(await sessions.authenticate(three.accessToken)).toBeUndefined();
      expect(await sessions.authenticate(two.accessToken)).toMatchObject(as(two));
      expect(await sessions.revoke(as(two), 'global')).toBe(1);
      expect(await sessions.authenticate(two.accessToken)).toBeUndefined();
    });
  },
);
