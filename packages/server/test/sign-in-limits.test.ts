import { describe, expect, it } from 'vitest';
import { jsonClient } from './fixtures/auth-helpers.js';
import { useTestServer } from './fixtures/test-server.js';

// Sign-in is limited per IP (the route's rule) and per account (keyed by the email, for every
// email tried, known or not), each taken from the configured rules.
const server = useTestServer({
  rateRules: {
    'auth.signIn': { capacity: 1_000, refillPerSecond: 0.001 },
    'auth.signIn.perAccount': { capacity: 3, refillPerSecond: 0.001 },
  },
});
const call = jsonClient(() => server().url);

describe('sign-in rate limits', () => {
  it('the per-account rule, as configured, refuses the 4th attempt on one email with 429 and Retry-After', async () => {
    const attempt = () =>
      call('POST', '/v1/auth/sign-in', { email: 'target@example.com', password: 'guess guess guess' });
    for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
    const refused = await attempt();
    expect(refused.status).toBe(429);
    expect(refused.body?.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body?.error.message).toContain('this account');
    // Another email from the same IP still gets an answer: the IP rule has room.
    expect(
      (await call('POST', '/v1/auth/sign-in', { email: 'other@example.com', password: 'guess guess guess' })).status,
    ).toBe(401);
  });
});

describe('one email, whatever its letter case', () => {
  it('attempts under different spellings of one email share one per-account bucket', async () => {
    const spellings = ['Case@Example.com', 'CASE@EXAMPLE.COM', 'case@example.COM', 'cAsE@eXaMpLe.CoM'];
    const attempt = (email: string) => call('POST', '/v1/auth/sign-in', { email, password: 'guess guess guess' });
    // The rule allows 3: three spellings get an answer, the fourth is refused as one spelling's 4th would be.
    for (const email of spellings.slice(0, 3)) expect((await attempt(email)).status).toBe(401);
    const refused = await attempt(spellings[3] as string);
    expect(refused.status).toBe(429);
    expect(refused.body?.error.message).toContain('this account');
  });
});
