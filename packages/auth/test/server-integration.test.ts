import { createClient, createServerClient } from '@plinth/client';
import { createOutboxMailer, type RunningServer, startServer } from '@plinth/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabaseLocation, testDatabaseLocations } from '../../../test/fixtures/test-database.js';

// The SDK against the real server, in-process, on PGlite — and on PostgreSQL and Redis when
// DATABASE_URL / REDIS_URL are set (each run uses a fresh database).
const outbox = createOutboxMailer({ info: () => {} } as never);
// PGlite in memory, or a fresh PostgreSQL database when DATABASE_URL is set (dropped after).
const location = testDatabaseLocations().find(
  (l) => l.label === (process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite (memory)'),
);
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    database: await (location as TestDatabaseLocation).create(),
    logLevel: 'silent',
    mailer: outbox,
    // Redis buckets outlive a run: a fresh prefix, so no run sees another's counts.
    rateLimitKeyPrefix: `plinth:test:${Math.random().toString(36).slice(2)}:`,
    corsOrigins: ['http://localhost:5173'],
    // Redis buckets outlive a test run; the limits themselves are tested in the server package.
    rateRules: Object.fromEntries(
      ['auth.signIn', 'auth.signIn.perAccount', 'auth.signUp', 'auth.refresh'].map((name) => [
        name,
        { capacity: 10_000, refillPerSecond: 1_000 },
      ]),
    ),
  });
}, 30_000);
afterAll(async () => {
  await server?.close();
});

async function mailedToken(to: string, type: string): Promise<string> {
  let token: string | undefined;
  await expect
    .poll(() => {
      token = [...outbox.messages]
        .reverse()
        .find((m) => m.to === to && m.text.includes(`type=${type}`))
        ?.text.match(/token=([\w-]+)/)?.[1];
      return token;
    })
    .toBeTruthy();
  return token as string;
}

describe('@plinth/client → @plinth/server', () => {
  const password = 'correct horse battery staple';

  it('signs up, verifies, signs in, reads the user, refreshes, and signs out (token mode)', async () => {
    const plinth = createClient({
      url: server.url,
      publishableKey: server.publishableKey as string,
      auth: { mode: 'token' },
    });
    const events: string[] = [];
    plinth.auth.onAuthStateChange((event) => events.push(event));

    expect(await plinth.auth.signUp({ email: 'grace@example.com', password })).toEqual({ accepted: true });
    await plinth.auth.verifyEmail({ token: await mailedToken('grace@example.com', 'verify_email') });
    const signedIn = await plinth.auth.signIn({ email: 'grace@example.com', password });
    expect(signedIn.user.email).toBe('grace@example.com');
    expect(await plinth.auth.getMe()).toMatchObject({ email: 'grace@example.com', emailVerified: true });

    // 50 concurrent refreshes from the SDK: one request (single flight), one rotation.
    const answers = await Promise.all(Array.from({ length: 50 }, () => plinth.auth.refresh()));
    expect(new Set(answers.map((a) => a.session?.refreshToken)).size).toBe(1);
    expect(answers[0]?.session?.refreshToken).not.toBe(signedIn.session?.refreshToken);
    expect(await plinth.auth.getMe()).toMatchObject({ email: 'grace@example.com' });

    await plinth.auth.signOut();
    expect(await plinth.auth.getMe()).toBeNull();
    expect(events).toEqual(['SIGNED_IN', 'TOKEN_REFRESHED', 'SIGNED_OUT']);
  });

  it('lists the user’s sessions and ends another device’s', async () => {
    const laptop = createClient({
      url: server.url,
      publishableKey: server.publishableKey as string,
      auth: { mode: 'token' },
    });
    const phone = createClient({
      url: server.url,
      publishableKey: server.publishableKey as string,
      auth: { mode: 'token' },
    });
    await laptop.auth.signIn({ email: 'grace@example.com', password });
    await phone.auth.signIn({ email: 'grace@example.com', password });
    const sessions = await laptop.auth.listSessions();
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const phoneSession = sessions.find((s) => !s.current) as { id: string };
    expect(await laptop.auth.revokeSession(phoneSession.id)).toBe(true);
    expect(await phone.auth.getMe()).toBeNull();
    expect(await laptop.auth.getMe()).toMatchObject({ email: 'grace@example.com' });
  });

  it('createServerClient signs in for a browser and relays the cookies both ways (SSR)', async () => {
    // The framework's cookie jar for one browser: what the browser sent, and what to set on it.
    const jar = new Map<string, string>();
    const cookies = {
      getAll: () => [...jar].map(([name, value]) => ({ name, value })),
      setAll: (list: { name: string; value: string; options?: { maxAge?: number } }[]) => {
        for (const { name, value, options } of list) {
          if (options?.maxAge === 0 || value === '') jar.delete(name);
          else jar.set(name, value);
        }
      },
    };
    const ssr = () => createServerClient({ url: server.url, publishableKey: server.publishableKey as string, cookies });
    await ssr().auth.signIn({ email: 'grace@example.com', password });
    expect([...jar.keys()].sort()).toEqual(['__Host-plinth-access', '__Host-plinth-refresh']);
    // A later request of the same browser: a new server client, the cookies from the jar.
    expect(await ssr().auth.getMe()).toMatchObject({ email: 'grace@example.com' });
    await ssr().auth.signOut();
    expect(jar.size).toBe(0);
    expect(await ssr().auth.getMe()).toBeNull();
  });

  it('a wrong password is an AuthError with a stable code, and no account is revealed', async () => {
    const plinth = createClient({
      url: server.url,
      publishableKey: server.publishableKey as string,
      auth: { mode: 'token' },
    });
    const unknown = await plinth.auth.signIn({ email: 'nobody@example.com', password }).catch((e: unknown) => e);
    const wrong = await plinth.auth
      .signIn({ email: 'grace@example.com', password: 'not it at all' })
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'AuthError', code: 'invalid_credentials', status: 401 });
    expect((wrong as Error).message).toBe((unknown as Error).message);
  });

  it('bad input comes back as a ValidationError naming the field', async () => {
    const plinth = createClient({
      url: server.url,
      publishableKey: server.publishableKey as string,
      auth: { mode: 'token' },
    });
    const error = await plinth.auth
      .signUp({ email: 'x@example.com', password: 'password123' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationError', code: 'validation_failed', details: { field: 'password' } });
  });
});
