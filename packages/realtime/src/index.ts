/**
 * Plinth realtime. On your server, with the service key: tickets for browsers, broadcasts, and
 * an async-iterable stream of its own (`createRealtimeClient`); each throws
 * `MissingServiceKeyError` synchronously without the key. In the browser, with no key:
 * `subscribe(ticket, { onEvent })` reads the stream your server's ticket allows, over
 * Server-Sent Events, and resumes after a cut from the last event, with none lost or repeated.
 *
 * @packageDocumentation
 */

export type { Condition, RealtimeEvent } from '@plinth/protocol';
export {
  createRealtimeClient,
  type RealtimeClient,
  type StreamOptions,
  type TicketOptions,
} from './realtime-client.js';
export {
  type RealtimeStatus,
  type RealtimeSubscription,
  type RealtimeTicket,
  type SubscribeOptions,
  subscribe,
} from './subscribe.js';
