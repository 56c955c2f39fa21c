import { defineRoute } from '../route.js';
import type * as schemas from './realtime.schemas.js';

// Realtime: the app's server mints tickets and broadcasts (service key, or an API key with the
// `realtime` scope); a browser holds only a ticket, which names what it may hear.

/**
 * `POST /v1/realtime/tickets`: a signed, expiring ticket for one stream: its channels, its
 * tables with the filter the app's server chose, and the user it was minted for.
 */
export const createTicketRoute = /* @__PURE__ */ defineRoute<typeof schemas.createTicketSchemas>()({
  name: 'realtime.createTicket',
  method: 'POST',
  path: '/v1/realtime/tickets',
  auth: 'service',
  scope: 'realtime',
});

/** `POST /v1/realtime/broadcast`: an event on a channel, written to the durable log. */
export const broadcastRoute = /* @__PURE__ */ defineRoute<typeof schemas.broadcastSchemas>()({
  name: 'realtime.broadcast',
  method: 'POST',
  path: '/v1/realtime/broadcast',
  auth: 'service',
  scope: 'realtime',
});

/**
 * `GET /v1/realtime/stream`: `text/event-stream` of the log's events the ticket may hear, from
 * `Last-Event-ID` on when given; `Authorization: Ticket <ticket>`.
 */
export const streamRoute = /* @__PURE__ */ defineRoute<typeof schemas.streamSchemas>()({
  name: 'realtime.stream',
  method: 'GET',
  path: '/v1/realtime/stream',
  auth: 'ticket',
});
