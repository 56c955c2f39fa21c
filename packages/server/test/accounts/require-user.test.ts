import { describe, expect, it } from 'vitest';
import { getMeHandler } from '../../src/auth/get-me.js';
import { updatePasswordHandler } from '../../src/auth/passwords.js';
import { listSessionsHandler, revokeSessionHandler } from '../../src/auth/sessions.js';
import { signOutHandler } from '../../src/auth/sign-out.js';
import type { Caller } from '../../src/http/caller.js';
import { HttpError } from '../../src/http/http-error.js';
import { requireUser } from '../../src/http/require-user.js';
import type { RouteHandler } from '../../src/http/route-handler.js';

const notUsers: Caller[] = [{ kind: 'anonymous' }, { kind: 'service' }];
const refusal = {
  code: 'unauthenticated',
  status: 401,
  message:
    'This needs a signed-in user: sign in first, then send the session cookie or Authorization: Bearer <access token>.',
};

describe('requireUser', () => {
  it('gives back the signed-in user', () => {
    const user: Caller = { kind: 'user', userId: 'u1', sessionId: 's1' };
    expect(requireUser(user)).toBe(user);
  });

  it.each(notUsers)('refuses a $kind caller with a 401 that says what to send', (caller) => {
    expect(() => requireUser(caller)).toThrow(HttpError);
    expect(() => requireUser(caller)).toThrow(expect.objectContaining(refusal));
  });
});

// Every handler that acts on "my" account answers a caller that is not a user in one way. The
// auth guard refuses such callers before any of these run; this pins the handlers' own answer,
// which used to be three different ones (`session_expired`, `unauthenticated` "Sign in first.",
// and a quiet `{ signedOut: 0 }`).
describe.each(notUsers)('handlers that need a user, called by a $kind caller', (caller) => {
  const handlers: [string, RouteHandler][] = [
    ['getMe', getMeHandler as RouteHandler],
    ['updatePassword', updatePasswordHandler as RouteHandler],
    ['listSessions', listSessionsHandler as RouteHandler],
    ['revokeSession', revokeSessionHandler as RouteHandler],
    ['signOut', signOutHandler as RouteHandler],
  ];
  it.each(handlers)('%s refuses with the one requireUser answer', async (_name, handler) => {
    const context = { input: {}, caller, request: new Request('http://plinth.test/'), requestId: 'r1', services: {} };
    await expect(handler.handle(context as never)).rejects.toMatchObject(refusal);
  });
});
