import { type CallOptions, callAs, type Transport } from '@plinth/core';
import {
  type AdminSession,
  type AdminUser,
  type ApiKeyInfo,
  type ApiKeyScope,
  adminCreateApiKeyRoute,
  adminCreateSignInLinkRoute,
  adminCreateUserRoute,
  adminDeleteUserRoute,
  adminGetUserRoute,
  adminInviteUserRoute,
  adminListApiKeysRoute,
  adminListSessionsRoute,
  adminListUsersRoute,
  adminRevokeAllSessionsRoute,
  adminRevokeApiKeyRoute,
  adminRevokeSessionRoute,
  adminUpdateUserRoute,
} from '@plinth/protocol';
import { type AdminAudit, createAuditClient } from './audit-client.js';
import { definedOnly } from './defined-only.js';
import { followCursor } from './follow-cursor.js';
import { type AdminSecrets, createSecretsClient } from './secrets-client.js';
import { type AdminWebhooks, createWebhooksClient } from './webhooks-client.js';

/** What `users.list` and `users.listAll` filter on. */
export interface ListUsersFilters {
  /** The start of the email, matched case-insensitively (`ada@` finds `Ada@example.com`). */
  emailPrefix?: string | undefined;
  /** `active` (may sign in), `disabled`, or `banned` (a ban still running). */
  status?: 'active' | 'disabled' | 'banned' | undefined;
}

/** One page request of `users.list`. */
export interface ListUsersOptions extends ListUsersFilters {
  /** 1 to 1000; default 100. */
  limit?: number | undefined;
  /** The `nextCursor` of the previous page, unchanged. */
  cursor?: string | undefined;
}

/** One page of users. */
export interface UsersPage {
  users: AdminUser[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
  /** How many users match the filters, over all pages. */
  total: number;
}

/** A new user. */
export interface CreateUserOptions {
  email: string;
  /** Checked by the server's password rules (as at sign-up); leave out for magic-link or OAuth users. */
  password?: string | undefined;
  /** True marks the email confirmed, with no mail sent (for scripts and tests). */
  emailConfirmed?: boolean | undefined;
  /** A JSON object of at most 16 KiB. */
  metadata?: Record<string, unknown> | undefined;
}

/** A change to a user; fields left out are kept. */
export interface UpdateUserOptions {
  /** True disables the account and ends all its sessions; false enables it again. */
  disabled?: boolean | undefined;
  /** A new email (409 `ConflictError` if another account has it); links mailed before stop working. */
  email?: string | undefined;
  /** Replaces the metadata whole (not merged). */
  metadata?: Record<string, unknown> | undefined;
  /**
   * Bans the account until this time (ISO 8601 with its offset, or a Date): sign-in is refused
   * and every session ends now. `null` lifts the ban; a ban also ends by itself at that time.
   */
  bannedUntil?: string | Date | null | undefined;
}

/** An invitation: an account with no password, mailed a sign-in link. */
export interface InviteUserOptions {
  email: string;
  /** Where the mailed link leads; must be on one of the server's app origins (default: the first). */
  redirectTo?: string | undefined;
  /** A JSON object of at most 16 KiB. */
  metadata?: Record<string, unknown> | undefined;
}

/** A new API key. */
export interface CreateApiKeyOptions {
  name: string;
  scopes: ApiKeyScope[];
  /** ISO 8601, in the future; left out, the key lasts until revoked. */
  expiresAt?: string | undefined;
}

/** `admin.users`. */
export interface AdminUsers {
  /** One page of users, oldest first. */
  list(options?: ListUsersOptions, callOptions?: CallOptions): Promise<UsersPage>;
  /**
   * Every user matching `filters`, one at a time, fetching page after page (of `pageSize`,
   * default 1000) as the loop asks; each user once, even while users are being added.
   */
  listAll(
    filters?: ListUsersFilters & { pageSize?: number | undefined },
    callOptions?: CallOptions,
  ): AsyncIterable<AdminUser>;
  /** One user; `NotFoundError` if there is none. */
  get(userId: string, callOptions?: CallOptions): Promise<AdminUser>;
  /** Makes a user; `ConflictError` if the email is taken, `ValidationError` for a weak password. */
  create(user: CreateUserOptions, callOptions?: CallOptions): Promise<AdminUser>;
  /** Changes a user; the user after, and how many sessions a disable ended. */
  update(
    userId: string,
    changes: UpdateUserOptions,
    callOptions?: CallOptions,
  ): Promise<{ user: AdminUser; revokedSessions: number }>;
  /** Deletes a user and ends their sessions; `deleted` is false if there was none. */
  delete(userId: string, callOptions?: CallOptions): Promise<{ deleted: boolean; revokedSessions: number }>;
  /**
   * Makes an account with no password and mails it a sign-in link (single use, 10 minutes);
   * opening it confirms the email. `ConflictError` if the email has an account.
   */
  invite(invitation: InviteUserOptions, callOptions?: CallOptions): Promise<AdminUser>;
  /**
   * A single-use sign-in link (10 minutes), answered instead of mailed, for the app to deliver
   * its own way. It is a credential: send it to the user only. `ConflictError` if the account is
   * disabled or banned.
   */
  createSignInLink(
    userId: string,
    options?: { redirectTo?: string | undefined },
    callOptions?: CallOptions,
  ): Promise<{ link: string; expiresAt: string }>;
}

/** `admin.sessions`. */
export interface AdminSessions {
  /** A user's active sessions, newest first. */
  list(userId: string, callOptions?: CallOptions): Promise<AdminSession[]>;
  /** Ends one session of the user; false if it was not theirs or not active. */
  revoke(userId: string, sessionId: string, callOptions?: CallOptions): Promise<boolean>;
  /** Ends every session of the user; how many were active. */
  revokeAll(userId: string, callOptions?: CallOptions): Promise<number>;
}

/** `admin.apiKeys`. */
export interface AdminApiKeys {
  /** Makes a key; `key` is in this answer only, so store it now. */
  create(options: CreateApiKeyOptions, callOptions?: CallOptions): Promise<{ apiKey: ApiKeyInfo; key: string }>;
  /** Every key, newest first, revoked and expired ones included; never a key itself. */
  list(callOptions?: CallOptions): Promise<ApiKeyInfo[]>;
  /** Revokes a key at once; `NotFoundError` if there is none. */
  revoke(keyId: string, callOptions?: CallOptions): Promise<ApiKeyInfo>;
}

/** The client {@link createAdminClient} returns. */
export interface AdminClient {
  users: AdminUsers;
  sessions: AdminSessions;
  apiKeys: AdminApiKeys;
  /** Named values kept encrypted by Plinth. */
  secrets: AdminSecrets;
  /** Endpoints that receive the server's events, and the record of every delivery to them. */
  webhooks: AdminWebhooks;
  /** Who did what, from where: the audit log, newest first. */
  audit: AdminAudit;
}

/**
 * Administration over a transport with the service key (or an API key with the `admin` scope):
 * users, their sessions, API keys, secrets and webhook endpoints. Every method throws
 * `MissingServiceKeyError` synchronously, before any request, on a transport without one:
 * administration belongs on your server, never in a browser.
 *
 * @example
 * ```ts
 * import { createAdminClient } from '@plinth/admin';
 * import { createTransport } from '@plinth/core';
 *
 * const admin = createAdminClient(createTransport({ url, serviceKey: process.env.PLINTH_SERVICE_KEY }));
 * const user = await admin.users.create({ email: 'ada@example.com', password, emailConfirmed: true });
 * for await (const u of admin.users.listAll({ status: 'disabled' })) console.log(u.email);
 * await admin.sessions.revokeAll(user.id);
 * ```
 */
export function createAdminClient(transport: Transport): AdminClient {
  const list: AdminUsers['list'] = (options = {}, callOptions) =>
    callAs(
      transport,
      adminListUsersRoute,
      'admin.users.list()',
      definedOnly({
        emailPrefix: options.emailPrefix,
        status: options.status,
        limit: options.limit,
        cursor: options.cursor,
      }),
      callOptions,
    );

  return {
    users: {
      list,

      listAll(filters = {}, callOptions) {
        // Checked here, not at the first page: the mistake surfaces where the loop is written.
        transport.assertCallable(adminListUsersRoute, 'admin.users.listAll()');
        const { emailPrefix, status, pageSize = 1000 } = filters;
        return followCursor(
          (cursor) =>
            callAs(
              transport,
              adminListUsersRoute,
              'admin.users.listAll()',
              definedOnly({ emailPrefix, status, limit: pageSize, cursor }),
              callOptions,
            ),
          (page) => page.users,
        );
      },

      get: (userId, callOptions) =>
        callAs(transport, adminGetUserRoute, 'admin.users.get()', { userId }, callOptions).then((a) => a.user),

      create: (user, callOptions) =>
        callAs(
          transport,
          adminCreateUserRoute,
          'admin.users.create()',
          definedOnly({
            email: user.email,
            password: user.password,
            emailConfirmed: user.emailConfirmed,
            metadata: user.metadata,
          }) as { email: string },
          callOptions,
        ).then((a) => a.user),

      // userId last: a changes object from elsewhere cannot redirect the update.
      update: (userId, changes, callOptions) =>
        callAs(
          transport,
          adminUpdateUserRoute,
          'admin.users.update()',
          {
            ...definedOnly({
              disabled: changes.disabled,
              email: changes.email,
              metadata: changes.metadata,
              bannedUntil:
                changes.bannedUntil instanceof Date ? changes.bannedUntil.toISOString() : changes.bannedUntil,
            }),
            userId,
          },
          callOptions,
        ),

      delete: (userId, callOptions) =>
        callAs(transport, adminDeleteUserRoute, 'admin.users.delete()', { userId }, callOptions),

      invite: (invitation, callOptions) =>
        callAs(
          transport,
          adminInviteUserRoute,
          'admin.users.invite()',
          definedOnly({
            email: invitation.email,
            redirectTo: invitation.redirectTo,
            metadata: invitation.metadata,
          }) as { email: string },
          callOptions,
        ).then((a) => a.user),

      // userId last: an options object from elsewhere cannot point the link at another user.
      createSignInLink: (userId, options = {}, callOptions) =>
        callAs(
          transport,
          adminCreateSignInLinkRoute,
          'admin.users.createSignInLink()',
          { ...definedOnly({ redirectTo: options.redirectTo }), userId },
          callOptions,
        ),
    },

    sessions: {
      list: (userId, callOptions) =>
        callAs(transport, adminListSessionsRoute, 'admin.sessions.list()', { userId }, callOptions).then(
          (a) => a.sessions,
        ),

      revoke: (userId, sessionId, callOptions) =>
        callAs(
          transport,
          adminRevokeSessionRoute,
          'admin.sessions.revoke()',
          { userId, id: sessionId },
          callOptions,
        ).then((a) => a.revoked),

      revokeAll: (userId, callOptions) =>
        callAs(transport, adminRevokeAllSessionsRoute, 'admin.sessions.revokeAll()', { userId }, callOptions).then(
          (a) => a.revokedSessions,
        ),
    },

    apiKeys: {
      create: (options, callOptions) =>
        callAs(
          transport,
          adminCreateApiKeyRoute,
          'admin.apiKeys.create()',
          definedOnly({ name: options.name, scopes: options.scopes, expiresAt: options.expiresAt }) as {
            name: string;
            scopes: ApiKeyScope[];
          },
          callOptions,
        ),

      list: (callOptions) =>
        callAs(transport, adminListApiKeysRoute, 'admin.apiKeys.list()', {}, callOptions).then((a) => a.apiKeys),

      revoke: (keyId, callOptions) =>
        callAs(transport, adminRevokeApiKeyRoute, 'admin.apiKeys.revoke()', { keyId }, callOptions).then(
          (a) => a.apiKey,
        ),
    },

    secrets: createSecretsClient(transport),
    webhooks: createWebhooksClient(transport),
    audit: createAuditClient(transport),
  };
}
