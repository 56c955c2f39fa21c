import { defineFeatureModule, type ServiceContext } from '../feature-module.js';
import { perMinute } from '../rate-limit/rate-limit-rules.js';
import { exchangeCodeHandler, oauthCallbackHandler, signInWithOAuthHandler } from './oauth-handlers.js';
import { assertPublicUrl, createOAuthService, type OAuthService } from './oauth-service.js';

function createOAuthServices({ settings }: ServiceContext): OAuthService {
  const { publicUrl } = settings;
  if (typeof publicUrl === 'string') assertPublicUrl(publicUrl);
  return createOAuthService(settings.oauth, () => {
    const url = typeof publicUrl === 'function' ? publicUrl() : publicUrl;
    if (url === undefined) throw new Error('OAuth needs the server’s public URL (publicUrl, PLINTH_PUBLIC_URL).');
    return url;
  });
}

/**
 * OAuth and OpenID Connect sign-in: the redirect to the provider, its callback, and the code
 * exchange that ends in a session. `services.oauth` holds the configured providers, the redirect
 * allow-list and the calls to providers. Each authorize stores a flow and each callback calls
 * the provider; a person needs a few a minute.
 */
export const oauthModule = defineFeatureModule({
  name: 'oauth',
  handlers: [signInWithOAuthHandler, oauthCallbackHandler, exchangeCodeHandler],
  rateRules: {
    'auth.signInWithOAuth': perMinute(30),
    'auth.oauthCallback': perMinute(30),
    'auth.exchangeCode': perMinute(20),
  },
  createServices: createOAuthServices,
});
