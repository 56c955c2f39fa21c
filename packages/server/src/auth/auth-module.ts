import { defineFeatureModule, type ServiceContext } from '../feature-module.js';
import type { Mailer } from '../mail/mailer.js';
import { createOutboxMailer } from '../mail/outbox-mailer.js';
import { createSmtpMailer } from '../mail/smtp-mailer.js';
import { perMinute, perQuarterHour } from '../rate-limit/rate-limit-rules.js';
import { authChangesChannel, createSessionCheckCache } from '../sessions/session-check-cache.js';
import type { CookieSettings } from '../sessions/session-cookies.js';
import { createSessionService, type SessionService } from '../sessions/session-service.js';
import { createAccessTokens } from './access-token.js';
import { getMeHandler } from './get-me.js';
import { signInWithMagicLinkHandler, verifyMagicLinkHandler } from './magic-link.js';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.js';
import { confirmPasswordResetHandler, resetPasswordHandler, updatePasswordHandler } from './passwords.js';
import { refreshHandler } from './refresh.js';
import { listSessionsHandler, revokeSessionHandler } from './sessions.js';
import { signInHandler } from './sign-in.js';
import { signOutHandler } from './sign-out.js';
import { signUpHandler } from './sign-up.js';
import { verifyEmailHandler } from './verify-email.js';

/** What the auth handlers use (`services.auth`). */
export interface AuthServices {
  readonly sessions: SessionService;
  readonly passwords: PasswordHasher;
  readonly mailer: Mailer;
  readonly cookies: CookieSettings;
  /** App origins: CORS, CSRF and where email links may point. */
  readonly appOrigins: readonly string[];
}

/** A session lasts at most this long from sign-in, however often it is refreshed. */
const absoluteLifetimeSeconds = 30 * 24 * 3600;

async function createAuthServices({ database, logger, settings, secrets }: ServiceContext): Promise<AuthServices> {
  const issuer = settings.tokenIssuer ?? 'plinth';
  const accessTokens = createAccessTokens({
    ...secrets.signingKeys,
    issuer,
    audience: issuer,
    ttlSeconds: settings.accessTokenTtlSeconds ?? 900,
  });
  const ttlMs = settings.sessionCheckTtlMs ?? 2000;
  const checkCache = ttlMs > 0 ? createSessionCheckCache({ ttlMs }) : undefined;
  if (checkCache) {
    // Every instance hears every revocation; until the channel is up, nothing is remembered.
    await database.listen(
      authChangesChannel,
      (payload) => checkCache.applyNotification(payload),
      () => checkCache.setLive(true),
    );
    checkCache.setLive(true);
  }
  const sessions = createSessionService({
    database,
    accessTokens,
    refreshSecret: secrets.refreshSecret,
    absoluteLifetimeSeconds,
    ...(checkCache ? { checkCache } : {}),
  });
  const mailer =
    settings.mailer ??
    (settings.smtpUrl
      ? createSmtpMailer(settings.smtpUrl, settings.mailFrom ?? 'Plinth <no-reply@localhost>')
      : createOutboxMailer(logger));
  return {
    sessions,
    passwords: createPasswordHasher(),
    mailer,
    cookies: { secure: settings.secureCookies ?? true, refreshMaxAge: absoluteLifetimeSeconds },
    appOrigins: settings.appOrigins ?? [],
  };
}

/**
 * Accounts and sessions: sign-up, sign-in (password, magic link), sign-out, refresh, the
 * signed-in user, password change and reset, email verification, the user's own sessions.
 *
 * Rate limits, per client address unless the name says otherwise; each allows its capacity as a
 * burst, then refills to that many per period:
 * - routes that send email (sign-up, magic link, password reset): 5 per 15 minutes, since each
 *   costs a message and can be aimed at someone else's inbox;
 * - routes that check a password or a one-time secret: 10 a minute, plenty for a person
 *   mistyping, useless for guessing, and a bound on the Argon2 work one address can cause;
 * - `auth.signIn.perAccount`, keyed by the email rather than the address, so one account's
 *   password cannot be guessed from many addresses either; looser than the per-address rule
 *   because anyone can spend it to lock a victim out for a while;
 * - `auth.refresh`: 60 a minute, as clients refresh on a timer and on every tab wake-up.
 */
export const authModule = defineFeatureModule({
  name: 'auth',
  handlers: [
    signUpHandler,
    signInHandler,
    signOutHandler,
    getMeHandler,
    refreshHandler,
    signInWithMagicLinkHandler,
    verifyMagicLinkHandler,
    updatePasswordHandler,
    resetPasswordHandler,
    confirmPasswordResetHandler,
    verifyEmailHandler,
    listSessionsHandler,
    revokeSessionHandler,
  ],
  rateRules: {
    'auth.signIn': perMinute(10),
    'auth.signIn.perAccount': perQuarterHour(20),
    'auth.signUp': perQuarterHour(5),
    'auth.signInWithMagicLink': perQuarterHour(5),
    'auth.verifyMagicLink': perMinute(10),
    'auth.refresh': perMinute(60),
    'auth.resetPassword': perQuarterHour(5),
    'auth.confirmPasswordReset': perMinute(10),
    'auth.updatePassword': perMinute(10),
    'auth.verifyEmail': perMinute(10),
  },
  createServices: createAuthServices,
});
