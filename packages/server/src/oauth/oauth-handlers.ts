import { exchangeCodeRoute, oauthCallbackRoute, signInWithOAuthRoute } from '@plinth/protocol';
import { usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { sessionAnswer } from '../auth/session-answer.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import { readCookie } from '../sessions/session-cookies.js';
import type { ProviderIdentity } from './id-token.js';
import { findOrCreateUser } from './identity-linking.js';
import {
  consumeFlow,
  flowCookie,
  flowCookieName,
  issueOAuthCode,
  newFlowSecrets,
  redeemOAuthCode,
  saveFlow,
} from './oauth-flows.js';
import type { OAuthService } from './oauth-service.js';
import type { OAuthProvider } from './provider-config.js';
import { ProviderError } from './provider-http.js';

function providerOrNotFound(oauth: OAuthService, name: string): OAuthProvider {
  const provider = oauth.provider(name);
  if (!provider)
    throw new HttpError('not_found', `No OAuth provider "${name}" is configured on this server.`, { provider: name });
  return provider;
}

function redirect(location: string, cookies: readonly string[]): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(null, { status: 302, headers });
}

// Provider errors passed on to the app as they are; any other becomes `provider_error`.
const passedOnErrors = new Set(['access_denied', 'temporarily_unavailable']);

/**
 * `GET /v1/auth/oauth/:provider/authorize`: the browser arrives from the app. The app's
 * `redirectTo` must be on the allow-list exactly; its PKCE challenge, state and redirect are kept
 * in a flow record with the server's own state, verifier and nonce for the provider, and the
 * browser is bound to the flow by a cookie. Then a redirect to the provider.
 */
export const signInWithOAuthHandler = defineHandler(signInWithOAuthRoute, async ({ input, services }) => {
  const { auth, database } = services;
  const provider = providerOrNotFound(services.oauth, input.provider);
  if (!services.oauth.isAllowedRedirect(input.redirectTo)) {
    throw new HttpError(
      'validation_failed',
      'redirectTo: not one of the redirect URLs this server allows (oauth.redirectUrls, PLINTH_OAUTH_REDIRECT_URLS); it must match one exactly.',
      { field: 'redirectTo' },
    );
  }
  const secrets = newFlowSecrets();
  let location: string;
  try {
    location = await services.oauth.authorizationUrl(provider, {
      state: secrets.state,
      codeChallenge: secrets.providerChallenge,
      nonce: secrets.nonce,
    });
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    services.logger.warn({ provider: provider.name, problem: error.message }, 'oauth provider');
    throw new HttpError(
      'service_unavailable',
      `The sign-in provider "${provider.name}" cannot be reached; try again later.`,
    );
  }
  await saveFlow(
    database,
    {
      provider: provider.name,
      redirectTo: input.redirectTo,
      appState: input.state,
      codeChallenge: input.codeChallenge,
    },
    secrets,
  );
  return redirect(location, [flowCookie(secrets.state, secrets.browserSecret, auth.cookies.secure)]);
});

/**
 * `GET /v1/auth/oauth/:provider/callback`: the provider sends the browser back. The flow is used
 * up (single use, by the server's state and the browser's cookie), the provider's answer checked,
 * the user found or created, and the browser sent to the app's `redirectTo` with a Plinth code
 * and the app's state — or with `error` and the app's state.
 */
export const oauthCallbackHandler = defineHandler(oauthCallbackRoute, async ({ input, request, services, context }) => {
  const { auth, database, logger } = services;
  const provider = providerOrNotFound(services.oauth, input.provider);
  const secure = auth.cookies.secure;
  const cleared = flowCookie(input.state, '', secure);
  const flow = await consumeFlow(database, {
    provider: provider.name,
    state: input.state,
    browserSecret: readCookie(request.headers.get('cookie'), flowCookieName(input.state, secure)) ?? '',
  });
  if (!flow) {
    await audit(database, 'auth.sign_in_failed', {
      context,
      details: { method: 'oauth', reason: 'unknown_state' },
    });
    throw new HttpError(
      'invalid_credentials',
      'This sign-in is unknown, already finished, expired, or was started in another browser; start again from the app.',
      undefined,
      { 'set-cookie': cleared },
    );
  }
  const back = (params: Record<string, string>) => {
    const url = new URL(flow.redirectTo);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    url.searchParams.set('state', flow.appState);
    return redirect(url.href, [cleared]);
  };
  const refuse = async (error: string, reason: string, userId?: string) => {
    await audit(database, 'auth.sign_in_failed', {
      userId,
      context,
      details: { method: 'oauth', provider: provider.name, reason },
    });
    return back({ error });
  };

  if (input.error !== undefined) {
    return refuse(passedOnErrors.has(input.error) ? input.error : 'provider_error', 'provider_declined');
  }
  if (input.code === undefined) return refuse('provider_error', 'no_code');
  let identity: ProviderIdentity;
  try {
    identity = await services.oauth.identify(provider, {
      code: input.code,
      codeVerifier: flow.providerVerifier,
      nonce: flow.nonce,
      iss: input.iss,
    });
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    logger.warn({ requestId: context.requestId, provider: provider.name, problem: error.message }, 'oauth provider');
    return refuse('provider_error', 'provider_error');
  }
  const linked = await findOrCreateUser(database, provider.name, identity);
  if ('refused' in linked) return refuse(linked.refused, linked.refused, linked.userId);
  if (linked.outcome !== 'signed_in') {
    await audit(database, linked.outcome === 'created' ? 'auth.sign_up' : 'auth.oauth_linked', {
      userId: linked.userId,
      context,
      details: { method: 'oauth', provider: provider.name, emailVerified: identity.emailVerified },
    });
  }
  const code = await issueOAuthCode(database, {
    userId: linked.userId,
    provider: provider.name,
    codeChallenge: flow.codeChallenge,
    redirectTo: flow.redirectTo,
  });
  return back({ code });
});

/**
 * `POST /v1/auth/oauth/token`: the app trades the Plinth code and its PKCE verifier for a session,
 * in a cookie or as tokens like any sign-in. One 401 for every refusal; a replayed code also
 * revokes the session its first exchange started.
 */
export const exchangeCodeHandler = defineHandler(exchangeCodeRoute, async ({ input, services, context }) => {
  const { auth, database } = services;
  const result = await redeemOAuthCode(database, auth.sessions, input, context);
  if (!result.ok) {
    await audit(database, result.refused === 'replayed' ? 'auth.oauth_code_reuse' : 'auth.sign_in_failed', {
      userId: result.userId,
      context,
      details: { method: 'oauth', reason: result.refused, revokedSession: result.revokedSession ?? false },
    });
    throw new HttpError(
      'invalid_credentials',
      'This code is invalid, already used or expired, or the code verifier does not match it; sign in again.',
    );
  }
  const user = await usersRepository(database).findById(result.userId);
  if (!user)
    throw new HttpError('invalid_credentials', 'This code is invalid, already used or expired; sign in again.');
  await audit(database, 'auth.sign_in', {
    userId: result.userId,
    context,
    details: { method: 'oauth', provider: result.provider, mode: input.mode ?? 'token' },
  });
  return sessionAnswer(result.issued, user, input.mode ?? 'token', auth);
});
