import { describe, expect, it } from 'vitest';
import { defaultRateRules } from '../../src/features.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { jsonClient, signUpAndSignIn } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

// Where each session was used from: the address and user agent at sign-in, moved by each
// refresh, shown to the user (their own sessions) and to an admin, with a readable device name.
// Behind a trusted proxy, so that the test can be "somewhere else" for the refresh.

const outbox = createOutboxMailer(createLogger('silent'));
const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const rateRules = Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous]));
const server = useTestServer({
  mailer: outbox,
  rateRules,
  corsOrigins: ['http://localhost:5173'],
  trustedProxyHeader: 'x-forwarded-for',
});
const call = jsonClient(() => server().url);
const password = 'correct horse battery staple';
const macChrome =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
const iphoneSafari =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
const from = (ip: string, userAgent: string) => ({ 'x-forwarded-for': ip, 'user-agent': userAgent });

describe('sessions: where they were used from', () => {
  it('record the address and user agent of the sign-in, and move with each refresh', async () => {
    const { userId, accessToken, refreshToken } = await signUpAndSignIn(
      call,
      outbox,
      `devices-${Date.now()}@example.com`,
      password,
      from('203.0.113.7', macChrome),
    );
    const own = await call('GET', '/v1/auth/sessions', undefined, { authorization: `Bearer ${accessToken}` });
    expect(own.body?.sessions).toEqual([
      {
        id: expect.any(String),
        createdAt: expect.any(String),
        refreshedAt: expect.any(String),
        ip: '203.0.113.7',
        userAgent: macChrome,
        device: 'Chrome on macOS',
        current: true,
      },
    ]);

    const refreshed = await call('POST', '/v1/auth/refresh', { refreshToken }, from('198.51.100.23', iphoneSafari));
    expect(refreshed.status).toBe(200);
    const listed = await call('GET', `/v1/admin/users/${userId}/sessions`, undefined, {
      authorization: `Bearer ${server().serviceKey}`,
    });
    expect(listed.body?.sessions).toEqual([
      expect.objectContaining({ ip: '198.51.100.23', userAgent: iphoneSafari, device: 'Safari on iPhone' }),
    ]);
    expect(Date.parse(listed.body?.sessions[0].refreshedAt)).toBeGreaterThanOrEqual(
      Date.parse(own.body?.sessions[0].refreshedAt),
    );
  });

  it('keep at most 512 characters of a user agent, and name an unknown one plainly', async () => {
    const { accessToken } = await signUpAndSignIn(
      call,
      outbox,
      `devices-long-${Date.now()}@example.com`,
      password,
      from('203.0.113.8', 'x'.repeat(5000)),
    );
    const own = await call('GET', '/v1/auth/sessions', undefined, { authorization: `Bearer ${accessToken}` });
    expect(own.body?.sessions[0].userAgent).toHaveLength(512);
    expect(own.body?.sessions[0].device).toBe('Unknown device');
  });
});
