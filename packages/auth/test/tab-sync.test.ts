import { type AuthChangeEvent, type AuthClient, createAuthClient, memoryStore, openTabSync } from '@plinth/auth';
import { createTransport } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { deferred, signedIn, tokens, unauthenticated, user } from '../../../test/fixtures/auth.js';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

const mock = useMockServer();
const refreshes = () => mock.requests.filter((request) => request.url.endsWith('/v1/auth/refresh'));

let channel = 0;

/** Two "tabs": auth clients with their own stores, on one in-process BroadcastChannel. */
function twoTabs(mode: 'cookie' | 'token' = 'token') {
  const storageKey = `tab-sync-test-${++channel}`;
  const tab = () =>
    createAuthClient(createTransport({ url: apiUrl, publishableKey: 'pk_test', retry: false }), {
      mode,
      store: memoryStore(),
      storageKey,
      tabSync: true,
    });
  return { a: tab(), b: tab(), storageKey };
}

/** Resolves when `client` reports `event` (tab messages arrive asynchronously). */
const next = (client: AuthClient, event: AuthChangeEvent) =>
  new Promise<void>((resolve) => {
    const stop = client.onAuthStateChange((seen) => {
      if (seen === event) {
        stop();
        resolve();
      }
    });
  });

async function signedInTabs(mode: 'cookie' | 'token' = 'token') {
  const tabs = twoTabs(mode);
  mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(mode === 'token' ? tokens(1) : null)));
  const heard = next(tabs.b, 'SIGNED_IN');
  await tabs.a.signIn({ email: user.email, password: 'pw' });
  await heard;
  mock.requests.length = 0;
  return tabs;
}

describe('tab sync over BroadcastChannel', () => {
  it('a sign-in in one tab signs the other in, with no request from it', async () => {
    const { b } = await signedInTabs();
    await expect(b.getSession()).resolves.toEqual({ user, session: tokens(1) });
    expect(mock.requests).toHaveLength(0);
  });

  it('a tab adopts another tab’s refresh instead of refreshing itself', async () => {
    const { a, b } = await signedInTabs();
    mock.use(
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
      http.get(`${apiUrl}/v1/auth/me`, ({ request }) =>
        request.headers.get('authorization') === 'Bearer at_2' ? HttpResponse.json({ user }) : unauthenticated(),
      ),
    );
    const heard = next(b, 'TOKEN_REFRESHED');
    await a.refresh();
    await heard;
    await expect(b.getMe()).resolves.toEqual(user);
    expect(refreshes()).toHaveLength(1);
    expect(mock.requests.at(-1)?.headers.get('authorization')).toBe('Bearer at_2');
  });

  it('a call refused with the old token while another tab refreshed is replayed with the adopted session', async () => {
    const { a, b } = await signedInTabs();
    const oldTokenSeen = deferred();
    const answerOldToken = deferred();
    mock.use(
      http.post(`${apiUrl}/v1/auth/refresh`, () => signedIn(tokens(2))),
      http.get(`${apiUrl}/v1/auth/me`, async ({ request }) => {
        if (request.headers.get('authorization') === 'Bearer at_2') return HttpResponse.json({ user });
        oldTokenSeen.resolve();
        await answerOldToken.promise;
        return unauthenticated();
      }),
    );
    const me = b.getMe(); // goes out with at_1
    await oldTokenSeen.promise;
    const heard = next(b, 'TOKEN_REFRESHED');
    await a.refresh(); // meanwhile, tab A rotates the tokens
    await heard;
    answerOldToken.resolve(); // now B's call is refused

    await expect(me).resolves.toEqual(user);
    expect(refreshes()).toHaveLength(1); // A's only: B replayed without refreshing
    expect(mock.requests.map((request) => request.headers.get('authorization'))).toEqual([
      'Bearer at_1',
      null,
      'Bearer at_2',
    ]);
  });

  it('a sign-out in one tab signs the others out locally, without a request from them', async () => {
    const { a, b } = await signedInTabs();
    mock.use(http.post(`${apiUrl}/v1/auth/sign-out`, () => HttpResponse.json({ signedOut: 1 })));
    const heard = next(b, 'SIGNED_OUT');
    await a.signOut();
    await heard;
    await expect(b.getSession()).resolves.toEqual({ user: null, session: null });
    expect(mock.requests).toHaveLength(1);
  });

  it('works in cookie mode, where the messages carry the user and no token', async () => {
    const { a, b, storageKey } = await signedInTabs('cookie');
    // A third listener on the channel sees exactly what a tab is told.
    const message = new Promise((resolve) => openTabSync(storageKey, resolve));
    mock.use(http.post(`${apiUrl}/v1/auth/sign-out`, () => HttpResponse.json({ signedOut: 1 })));
    await expect(b.getSession()).resolves.toEqual({ user, session: null });
    const heard = next(b, 'SIGNED_OUT');
    await a.signOut();
    await heard;
    await expect(b.getSession()).resolves.toEqual({ user: null, session: null });
    await expect(message).resolves.toEqual({ event: 'SIGNED_OUT', user: null, session: null });
  });

  it('is off by default outside browsers: server-side clients in one process are different users', async () => {
    const storageKey = `tab-sync-test-${++channel}`;
    const make = (tabSync?: boolean) =>
      createAuthClient(createTransport({ url: apiUrl, retry: false }), {
        mode: 'token',
        storageKey,
        ...(tabSync === undefined ? {} : { tabSync }),
      });
    const sender = make(true);
    const deaf = make();
    const listening = make(true);
    mock.use(http.post(`${apiUrl}/v1/auth/sign-in`, () => signedIn(tokens(1))));
    const heard = next(listening, 'SIGNED_IN');
    await sender.signIn({ email: user.email, password: 'pw' });
    await heard;
    // A channel's messages reach the others of its name in order of creation (HTML spec), so the
    // default client, made before the listening one, would have had it first.
    await expect(deaf.getSession()).resolves.toEqual({ user: null, session: null });
  });
});
