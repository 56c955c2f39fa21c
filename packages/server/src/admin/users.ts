import {
  adminCreateSignInLinkRoute,
  adminCreateUserRoute,
  adminDeleteUserRoute,
  adminGetUserRoute,
  adminInviteUserRoute,
  adminListUsersRoute,
  adminUpdateUserRoute,
} from '@plinth/protocol';
import { canonicalEmail } from '../accounts/canonical-email.js';
import { emailLink, emailLinkBase } from '../accounts/email-links.js';
import { issueOneTimeToken, oneTimeTokenTtlSeconds, revokeOneTimeTokens } from '../accounts/one-time-tokens.js';
import { isUserId, usersRepository } from '../accounts/users-repository.js';
import { audit } from '../audit/audit-log.js';
import { assertAcceptablePassword } from '../auth/password-rules.js';
import { HttpError } from '../http/http-error.js';
import { defineHandler } from '../http/route-handler.js';
import { decodeTimeCursor, encodeTimeCursor } from '../http/time-cursor.js';
import { deliverLater } from '../mail/deliver-later.js';

const noSuchUser = (userId: string) =>
  new HttpError('not_found', `No user ${userId}. List users or check the id you stored.`, { field: 'userId' });

const emailTaken = (email: string) =>
  new HttpError(
    'conflict',
    `Another account already has the email ${email}. Find it with GET /v1/admin/users?emailPrefix=…, or choose another email.`,
    { field: 'email', constraint: 'users_email_key' },
  );

const defaultPageSize = 100;

/**
 * `GET /v1/admin/users`: a page of users in (createdAt, id) order with the count of all that
 * match. The cursor is a position, so following `nextCursor` to the end sees each user once.
 */
export const adminListUsersHandler = defineHandler(adminListUsersRoute, async ({ input, services }) => {
  const after = input.cursor === undefined ? undefined : decodeTimeCursor(input.cursor, isUserId);
  if (input.cursor !== undefined && after === undefined)
    throw new HttpError(
      'validation_failed',
      'cursor: not a cursor this server made; pass the nextCursor of the previous page unchanged, or leave it out to start at the first page.',
      { field: 'cursor' },
    );
  const page = await usersRepository(services.database).list({
    emailPrefix: input.emailPrefix,
    status: input.status,
    limit: input.limit ?? defaultPageSize,
    after,
  });
  return { users: page.users, nextCursor: page.next ? encodeTimeCursor(page.next) : null, total: page.total };
});

/** `GET /v1/admin/users/:userId`: one user, or a 404 naming the id. */
export const adminGetUserHandler = defineHandler(adminGetUserRoute, async ({ input, services }) => {
  const user = await usersRepository(services.database).findForAdmin(input.userId);
  if (!user) throw noSuchUser(input.userId);
  return { user };
});

/**
 * `POST /v1/admin/users`: makes an account. The password meets the sign-up rules and is hashed
 * as sign-up hashes it; `emailConfirmed: true` confirms the email with no mail, for scripts and
 * tests. No mail is sent either way: the app tells the user.
 */
export const adminCreateUserHandler = defineHandler(adminCreateUserRoute, async ({ input, services, context }) => {
  const email = canonicalEmail(input.email);
  if (input.password !== undefined) assertAcceptablePassword(input.password, 'password', email);
  const passwordHash = input.password === undefined ? undefined : await services.auth.passwords.hash(input.password);
  const user = await services.database.transaction(async (tx) => {
    const users = usersRepository(tx);
    const userId = await users.create({
      email,
      passwordHash,
      emailVerified: input.emailConfirmed === true,
      metadata: input.metadata,
    });
    if (userId === undefined) return undefined;
    await audit(tx, 'admin.user_created', {
      userId,
      context,
      details: { password: passwordHash !== undefined, emailConfirmed: input.emailConfirmed === true },
    });
    return users.findForAdmin(userId);
  });
  if (!user) throw emailTaken(email);
  return { user };
});

/**
 * `PATCH /v1/admin/users/:userId`: `email` moves the account to another address (409 if taken)
 * and ends every link mailed before, which went to the old address; `metadata` replaces it
 * whole. `disabled: true` disables the account, revokes every session it has (docs/security.md:
 * "All sessions revoked on … disable") and ends every link mailed to it (verification, magic
 * link, reset), so none works once it is enabled again; `false` enables it. Email and metadata
 * change together or not at all, before the disable.
 */
export const adminUpdateUserHandler = defineHandler(adminUpdateUserRoute, async ({ input, services, context }) => {
  const { database, auth } = services;
  const changed = [
    ...(input.email === undefined ? [] : ['email']),
    ...(input.metadata === undefined ? [] : ['metadata']),
  ];
  if (changed.length > 0) {
    await database.transaction(async (tx) => {
      const users = usersRepository(tx);
      if (input.email !== undefined) {
        const outcome = await users.changeEmail(input.userId, input.email);
        if (outcome === 'missing') throw noSuchUser(input.userId);
        if (outcome === 'taken') throw emailTaken(canonicalEmail(input.email));
        await revokeOneTimeTokens(tx, input.userId);
      }
      if (input.metadata !== undefined && !(await users.setMetadata(input.userId, input.metadata)))
        throw noSuchUser(input.userId);
      await audit(tx, 'admin.user_updated', { userId: input.userId, context, details: { changed } });
    });
    auth.sessions.changed({ userId: input.userId });
  }
  const users = usersRepository(database);
  let user =
    input.disabled === undefined
      ? await users.findForAdmin(input.userId)
      : input.disabled
        ? await users.disable(input.userId)
        : await users.enable(input.userId);
  if (!user) throw noSuchUser(input.userId);
  let revokedSessions = 0;
  if (input.bannedUntil !== undefined) {
    // The user as it is after every change: the ban comes after the disable or enable.
    const banned = await users.setBannedUntil(input.userId, input.bannedUntil);
    if (!banned) throw noSuchUser(input.userId);
    user = banned;
    if (banned.bannedUntil !== null) {
      // As a disable does: out now, and no link mailed before works after the ban.
      revokedSessions += await auth.sessions.revokeAll(input.userId, 'user_banned');
      await revokeOneTimeTokens(database, input.userId);
      await audit(database, 'admin.user_banned', {
        userId: input.userId,
        context,
        details: { until: banned.bannedUntil, revokedSessions },
      });
    } else {
      auth.sessions.changed({ userId: input.userId });
      await audit(database, 'admin.user_unbanned', { userId: input.userId, context });
    }
  }
  if (input.disabled === true) {
    revokedSessions += await auth.sessions.revokeAll(input.userId, 'user_disabled');
    await revokeOneTimeTokens(database, input.userId);
    await audit(database, 'admin.user_disabled', { userId: input.userId, context, details: { revokedSessions } });
  } else if (input.disabled === false) {
    auth.sessions.changed({ userId: input.userId });
    await audit(database, 'admin.user_enabled', { userId: input.userId, context });
  }
  return { user, revokedSessions };
});

/**
 * `DELETE /v1/admin/users/:userId`: revokes every session, then deletes the account and all it
 * owns (its one-time tokens go with it: the table cascades).
 */
export const adminDeleteUserHandler = defineHandler(adminDeleteUserRoute, async ({ input, services, context }) => {
  const { database, auth } = services;
  const revokedSessions = await auth.sessions.revokeAll(input.userId, 'user_deleted');
  const deleted = await usersRepository(database).delete(input.userId);
  auth.sessions.changed({ userId: input.userId });
  if (deleted)
    await audit(database, 'admin.user_deleted', { userId: input.userId, context, details: { revokedSessions } });
  return { deleted, revokedSessions };
});

/**
 * `POST /v1/admin/users/invite`: makes an account with no password and mails it a sign-in link.
 * `redirectTo` is checked first, so a bad one makes no account. The account, and the token, are
 * one transaction; the mail goes after the commit.
 */
export const adminInviteUserHandler = defineHandler(adminInviteUserRoute, async ({ input, services, context }) => {
  const { auth, database, logger } = services;
  const base = emailLinkBase(input.redirectTo, auth.appOrigins);
  const email = canonicalEmail(input.email);
  const invited = await database.transaction(async (tx) => {
    const users = usersRepository(tx);
    const userId = await users.create({ email, metadata: input.metadata });
    if (userId === undefined) return undefined;
    const token = await issueOneTimeToken(tx, 'magic_link', userId);
    await audit(tx, 'admin.user_invited', { userId, context });
    return { user: await users.findForAdmin(userId), token };
  });
  if (!invited?.user || invited.token === undefined) throw emailTaken(email);
  deliverLater(auth.mailer, logger, {
    to: invited.user.email,
    subject: 'You are invited',
    text: `You have an account waiting. Sign in with this link (it works once, for 10 minutes):\n\n${emailLink(base, 'magic_link', invited.token)}\n\nIf it has expired, ask for a sign-in link with this email on the sign-in page.\n`,
  });
  return { user: invited.user };
});

/**
 * `POST /v1/admin/users/:userId/sign-in-link`: a single-use sign-in link for the app to deliver
 * itself. The link is a credential: it is answered, never logged or audited.
 */
export const adminCreateSignInLinkHandler = defineHandler(
  adminCreateSignInLinkRoute,
  async ({ input, services, context }) => {
    const { auth, database } = services;
    const base = emailLinkBase(input.redirectTo, auth.appOrigins);
    const token = await database.transaction((tx) => issueOneTimeToken(tx, 'magic_link', input.userId));
    if (token === undefined) {
      if (!(await usersRepository(database).findForAdmin(input.userId))) throw noSuchUser(input.userId);
      throw new HttpError(
        'conflict',
        'This account is disabled or banned, so it cannot sign in; enable it or lift the ban first (PATCH /v1/admin/users/:userId).',
        { field: 'userId' },
      );
    }
    await audit(database, 'admin.sign_in_link_created', { userId: input.userId, context });
    return {
      link: emailLink(base, 'magic_link', token),
      expiresAt: new Date(Date.now() + oneTimeTokenTtlSeconds * 1000).toISOString(),
    };
  },
);
