import { type AdminClient, createAdminClient } from '@plinth/admin';
import { type AuthClient, type AuthOptions, authMode, createAuthClient } from '@plinth/auth';
import { type CallOptions, createTransport, type Transport, type TransportOptions } from '@plinth/core';
import { healthRoute, type RouteOutput } from '@plinth/protocol';
import type { AnyDatabase, QueryClient } from '@plinth/query';
import { createRealtimeClient, type RealtimeClient } from '@plinth/realtime';
import { createStorageClient, type StorageClient } from '@plinth/storage';
import { installDataMethods } from './data-methods.js';
import { defineLazyProperty } from './lazy-property.js';

/** Options of {@link createClient}: where the server is, and the keys this client holds. */
export interface ClientOptions extends TransportOptions {
  /** The app's publishable key (`pk_...`). Safe in browsers. */
  publishableKey: string;
  /**
   * How `auth` holds the session. By default cookie mode in browsers (an HttpOnly cookie; the
   * SDK holds no token) and token mode elsewhere; `mode` forces either.
   */
  auth?: AuthOptions | undefined;
  /**
   * As the server's `secureCookies` (default true): whether its session cookies carry the
   * `__Host-` prefix. `as({ headers })` reads only the access cookie the server sets, so set it
   * to false only for a server started with `secureCookies: false` (plain http).
   */
  secureCookies?: boolean | undefined;
}

/** The server's answer to a health check. */
export type Health = RouteOutput<typeof healthRoute>;

/**
 * The Plinth SDK. Sub-clients (auth, data, storage, realtime, admin) are built on first use,
 * all over one transport. `DB` is the `Database` type `plinth gen types` writes; without it,
 * any table and column is accepted and rows are `Record<string, unknown>`.
 *
 * The data calls (`from`, `sql`, `batch`, `as`; see docs/query.md) need the service key: without
 * one, each throws `MissingServiceKeyError` synchronously, before any request.
 */
export interface PlinthClient<DB = AnyDatabase> extends QueryClient<DB> {
  /** The transport every sub-client shares. */
  readonly transport: Transport;
  /** Sign-up, sign-in, sessions. Built the first time it is read. */
  readonly auth: AuthClient;
  /**
   * Buckets, upload and download URLs, object info, list, move, copy, removal (docs/storage.md).
   * Every method needs the service key: on a client without one it throws
   * `MissingServiceKeyError`. A browser uploads with `uploadToUrl(grant, file)` instead.
   */
  readonly storage: StorageClient;
  /**
   * Realtime tickets and broadcasts for your server, and `stream()` to consume the events there:
   * each needs the service key, and on a client without one throws `MissingServiceKeyError`.
   * `subscribe(ticket, { onEvent })` needs no key: it is how a browser listens, with the ticket
   * your server made. In browser bundles import it (`import { subscribe } from
   * '@plinth/client'`): their `plinth.realtime` leaves its code out. Built on first read.
   */
  readonly realtime: RealtimeClient;
  /**
   * Administration from your server (docs/admin.md): users, sessions, API keys, secrets, webhook
   * endpoints. Every method needs the service key (or an API key with the `admin` scope): on a
   * client without one it throws `MissingServiceKeyError`, synchronously. Built on first read;
   * browser bundles carry none of its code.
   */
  readonly admin: AdminClient;
  /** Whether the server and its database answer. */
  health(options?: CallOptions): Promise<Health>;
}

/**
 * Creates a Plinth client. In a browser, give it only the publishable key; on your server, add
 * the service key to unlock data and admin calls.
 *
 * @example
 * ```ts
 * import { createClient } from '@plinth/client';
 *
 * const plinth = createClient({ url: 'https://api.example.com', publishableKey: 'pk_...' });
 * await plinth.auth.signIn({ email, password });
 *
 * // On your server, typed by `plinth gen types`:
 * import type { Database } from './database.types';
 * const db = createClient<Database>({ url, publishableKey, serviceKey: process.env.PLINTH_SERVICE_KEY });
 * const posts = await db.from('posts').select('id, title').where({ status: 'live' }).limit(20);
 * ```
 */
export function createClient<DB = AnyDatabase>(options: ClientOptions): PlinthClient<DB> {
  return buildClient<DB>(options, installDataMethods, createRealtimeClient, createAdminClient);
}

/** Puts `from`, `sql`, `batch` and `as` on a client: the real ones, or the browser build's stubs. */
export type DataMethodsInstaller = (client: PlinthClient<never>, transport: Transport, options: ClientOptions) => void;

/**
 * The client without its data methods, which `installData` adds, and with the realtime and admin
 * clients `realtime` and `admin` make: `createClient` and the browser build's `createClient`
 * differ only there.
 *
 * @example
 * ```ts
 * const plinth = buildClient({ url, publishableKey }, installDataMethods, createRealtimeClient, createAdminClient);
 * ```
 */
export function buildClient<DB>(
  options: ClientOptions,
  installData: DataMethodsInstaller,
  realtime: (transport: Transport) => RealtimeClient,
  admin: (transport: Transport) => AdminClient,
): PlinthClient<DB> {
  const transport = createTransport(options);
  // Checked now, so a refused combination fails where the client is made, not at first use.
  authMode(options.auth);
  const client = {
    transport,
    health: (callOptions?: CallOptions) => transport.call(healthRoute, {}, callOptions),
  } as PlinthClient<DB>;
  defineLazyProperty(client, 'auth', () => createAuthClient(transport, options.auth));
  defineLazyProperty(client, 'storage', () => createStorageClient(transport));
  defineLazyProperty(client, 'realtime', () => realtime(transport));
  defineLazyProperty(client, 'admin', () => admin(transport));
  installData(client as PlinthClient<never>, transport, options);
  return client;
}
