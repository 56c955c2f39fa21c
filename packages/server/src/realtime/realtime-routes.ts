import { broadcastRoute, createTicketRoute, streamRoute, wireHeaders } from '@plinth/protocol';
import { defineHandler } from '../http/route-handler.js';

/**
 * `POST /v1/realtime/tickets`: a signed, expiring ticket for one stream.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'realtime', handlers: [createTicketHandler] });
 * ```
 */
export const createTicketHandler = defineHandler(createTicketRoute, async ({ input, services }) =>
  services.realtime.createTicket(input),
);

/**
 * `POST /v1/realtime/broadcast`: an event on one of the app's channels, through the log.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'realtime', handlers: [broadcastHandler] });
 * ```
 */
export const broadcastHandler = defineHandler(broadcastRoute, async ({ input, services }) =>
  services.realtime.broadcast(input.channel, input.event, input.payload),
);

/**
 * `GET /v1/realtime/stream`: the events the ticket (checked by the auth guard) may hear, as
 * Server-Sent Events, from `Last-Event-ID` on.
 *
 * @example
 * ```ts
 * defineFeatureModule({ name: 'realtime', handlers: [streamHandler] });
 * ```
 */
export const streamHandler = defineHandler(streamRoute, async ({ caller, request, services }) => {
  if (caller.kind !== 'ticket') throw new Error('realtime.stream reached without a ticket');
  const lastEventId = request.headers.get(wireHeaders.lastEventId) ?? undefined;
  return services.realtime.openStream(caller.claims, lastEventId?.trim() || undefined);
});
