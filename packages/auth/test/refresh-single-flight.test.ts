import { createAuthClient, memoryStore, singleFlight } from '@plinth/auth';
import { AuthError, createTransport } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { deferred, signedIn, tokens, unauthenticated, user } from '../../../test/fixtures/auth.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();
const refreshes = () => mock.requests.filter((request) => request.url.endsWith('/v1/auth/refresh'));

async function signedInClient() {
  mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))));
  const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', retry: false });
  const auth = createAuthClient(transport, { mode: 'token', store: memoryStore(), tabSync: false });
  await auth.signIn({ email: user.email, password: 'pw' });
  mock.requests.length = 0;
  return auth;
}

describe('refresh() is single-flight', () => {
  it('50 concurrent callers: exactly 1 request, 50 identical results', async () => {
    const auth = await signedInClient();
    // The server answers only once every caller has joined, so none can arrive after it settled.
    const release = deferred();
    mock.use(
      http.post(`${apiUrl}/v1/auth/refresh`, async () => {
        await release.promise;
        return signedIn(tokens(2));
      }),
    );
    const events = vi.fn();
    auth.onAuthStateChange(events);

    const calls = Array.from({ length: 50 }, () => auth.refresh());
    release.resolve();
    const results = await Promise.all(calls);

    expect(refreshes()).toHaveLength(1);
    expect(mock.requests).toHaveLength(1);
    expect(results).toHaveLength(50);
    for (const result of results) expect(result).toBe(results[0]);
    expect(results[0]).toEqual({ user, session: tokens(2) });
    expect(events).toHaveBeenCalledTimes(1);
    expect(await refreshes()[0]?.json()).toEqual({ refreshToken: 'rt_1', mode: 'token' });
  });

  it('concurrent 401s share the one refresh, and each call is replayed once', async () => {
    const auth = await signedInClient();
    mock.use(
      http.get(`${apiUrl}/v1/auth/me`, ({ request }) =>
        request.headers.get('authorization') === 'Bearer at_2' ? HttpResponse.json({ user }) : unauthenticated(),
      ),
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
    );
    const results = await Promise.all(Array.from({ length: 10 }, () => auth.getMe()));
    expect(results).toEqual(Array.from({ length: 10 }, () => user));
    expect(refreshes()).toHaveLength(1);
    expect(mock.requests).toHaveLength(21); // 10 calls, 1 refresh, 10 replays
  });

  it('is not a cache: a call after the flight settled makes a new request, with the rotated token', async () => {
    const auth = await signedInClient();
    let n = 1;
    mock.use(http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(++n))));
    await auth.refresh();
    await auth.refresh();
    expect(refreshes()).toHaveLength(2);
    expect(await Promise.all(refreshes().map((request) => request.json()))).toEqual([
      { refreshToken: 'rt_1', mode: 'token' },
      { refreshToken: 'rt_2', mode: 'token' },
    ]);
  });

  it('a failed flight rejects every joined caller with the same error, and the next call tries again', async () => {
    const auth = await signedInClient();
    mock.use(
      http.post(`${apiUrl}/v1/auth/refresh`, () =>
        HttpResponse.json({ error: { code: 'internal_error', message: 'x', requestId: 'r' } }, { status: 500 }),
      ),
    );
    const errors = await Promise.all(Array.from({ length: 5 }, () => auth.refresh().catch((e: unknown) => e)));
    for (const error of errors) expect(error).toBe(errors[0]);
    expect(refreshes()).toHaveLength(1);
    mock.use(http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))));
    await expect(auth.refresh()).resolves.toEqual({ user, session: tokens(2) });
    expect(refreshes()).toHaveLength(2);
  });

  it('a refused refresh token ends the session for every caller', async () => {
    const auth = await signedInClient();
    mock.use(http.post(`${apiUrl}/v1/auth/refresh`, () => unauthenticated('invalid_credentials')));
    const errors = await Promise.all(Array.from({ length: 3 }, () => auth.refresh().catch((e: unknown) => e)));
    for (const error of errors) expect(error).toBeInstanceOf(AuthError);
    await expect(auth.getSession()).resolves.toEqual({ user: null, session: null });
    expect(refreshes()).toHaveLength(1);
  });
});

describe('singleFlight', () => {
  it('joins calls while one run is pending, then starts afresh', async () => {
    const gate = deferred<number>();
    const run = vi.fn(() => gate.promise);
    const shared = singleFlight(run);
    const first = shared();
    expect(shared()).toBe(first);
    gate.resolve(7);
    await expect(first).resolves.toBe(7);
    expect(run).toHaveBeenCalledTimes(1);
    void shared();
    expect(run).toHaveBeenCalledTimes(2);
  });
});
