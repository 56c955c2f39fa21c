/**
 * The Plinth SDK in one import: `createClient(...)`, and `createServerClient(...)` for
 * server-side rendering; auth (`plinth.auth`), realtime (`subscribe(ticket, ...)` in browsers,
 * `plinth.realtime` on servers) and, on servers, data (`plinth.from`, `sql`, `batch`, `as`).
 *
 * @packageDocumentation
 */

export { type ClientOptions, createClient, type Health, type PlinthClient } from './create-client.js';
export { createServerClient, type ServerClientOptions } from './create-server-client.js';
export * from './public-api.js';
