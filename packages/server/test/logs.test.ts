import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { openDatabase } from '../src/database/open-database.js';
import { featureModules } from '../src/features.js';
import type { Mail, Mailer } from '../src/mail/mailer.js';
import { createServerServices } from '../src/server-services.js';

describe('logs', () => {
  it('hold method, path, status and request id, and never a password, token, cookie or key', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const sent: Mail[] = [];
    const mailer: Mailer = { send: async (mail) => void sent.push(mail), close: async () => {} };
    const database = await openDatabase('memory');
    const { services, authenticators, issuedKeys } = await createServerServices({
      database,
      logger,
      version: 'test',
      mailer,
      appOrigins: ['http://localhost:5173'],
    });
    const app = createApp({ services, modules: featureModules, authenticators });
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { response, json: (await response.json()) as { session: { accessToken: string; refreshToken: string } } };
    };

    const password = 'my secret passphrase 42';
    await post('/v1/auth/sign-up', { email: 'log@example.com', password });
    await expect.poll(() => sent.length).toBe(1);
    const verification = sent[0]?.text.match(/token=([\w-]+)/)?.[1] as string;
    await post('/v1/auth/verify-email', { token: verification });
    await post('/v1/auth/sign-in', { email: 'log@example.com', password: 'wrong passphrase 42' });
    const token = await post('/v1/auth/sign-in', { email: 'log@example.com', password });
    const cookie = await post(
      '/v1/auth/sign-in',
      { email: 'log@example.com', password, mode: 'cookie' },
      { origin: 'http://localhost:5173' },
    );
    const { accessToken, refreshToken } = token.json.session;
    await post('/v1/auth/refresh', { refreshToken });
    await app.request('/v1/auth/me', {
      headers: { authorization: `Bearer ${accessToken}`, apikey: issuedKeys.publishableKey as string },
    });
    await app.request('/v1/health', { headers: { authorization: `Bearer ${issuedKeys.serviceKey}` } });
    await database.close();

    const secrets = [
      password,
      'wrong passphrase 42',
      verification,
      accessToken,
      refreshToken,
      issuedKeys.serviceKey,
      ...cookie.response.headers.getSetCookie().map((c) => c.split(';')[0]?.split('=')[1]),
    ].filter((value): value is string => typeof value === 'string' && value.length > 8);
    expect(secrets.length).toBeGreaterThanOrEqual(7);
    for (const secret of secrets) expect(logged).not.toContain(secret);
    // And the log did record the requests.
    const lines = logged
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.msg === 'request').length).toBeGreaterThanOrEqual(8);
    expect(lines.filter((line) => line.path === '/v1/auth/sign-in').map((line) => line.status)).toEqual([
      401, 200, 200,
    ]);
  }, 30_000);
});
