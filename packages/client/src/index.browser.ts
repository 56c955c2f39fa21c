/**
 * The browser build of `@plinth/client` (export condition `browser`): the same API, without the
 * data client's code, which cannot run in a browser, and without realtime's in `plinth.realtime`
 * (a browser imports `subscribe`, so only bundles that listen carry it).
 *
 * The Plinth SDK in one import: `createClient(...)`, and `createServerClient(...)` for
 * server-side rendering; auth (`plinth.auth`), realtime (`subscribe(ticket, ...)` in browsers,
 * `plinth.realtime` on servers) and, on servers, data (`plinth.from`, `sql`, `batch`, `as`).
 *
 * @packageDocumentation
 */

export { createClient, createServerClient } from './browser-client.js';
export type { ClientOptions, Health, PlinthClient } from './create-client.js';
export type { ServerClientOptions } from './create-server-client.js';
export * from './public-api.js';
