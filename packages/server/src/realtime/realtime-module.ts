import { hkdfSync } from 'node:crypto';
import { streamRoute } from '@plinth/protocol';
import { defineFeatureModule, type ServiceContext } from '../feature-module.js';
import { broadcastHandler, createTicketHandler, streamHandler } from './realtime-routes.js';
import { createRealtimeService, type RealtimeService } from './realtime-service.js';
import { realtimeTickets } from './tickets.js';

async function createRealtimeServices({
  database,
  logger,
  settings,
  secrets,
}: ServiceContext): Promise<RealtimeService> {
  const { publicUrl } = settings;
  const base = typeof publicUrl === 'function' ? publicUrl : () => publicUrl;
  return createRealtimeService({
    database,
    logger,
    // Derived from a secret every instance shares, so a ticket one instance minted works on all.
    tickets: realtimeTickets(Buffer.from(hkdfSync('sha256', secrets.refreshSecret, '', 'plinth realtime tickets', 32))),
    streamUrl: () => `${base() ?? ''}${streamRoute.path}`,
    options: settings.realtime ?? {},
  });
}

/**
 * Realtime: tickets the app's server mints, broadcasts, and `text/event-stream` streams of the
 * durable event log (row changes of published tables, storage events, broadcasts), resumed with
 * `Last-Event-ID` without loss. `services.realtime` is the service.
 *
 * Rate limits: minting tickets and broadcasting take the default rule; opening a stream, a burst
 * of 120 per address, then 2 a second (reconnects back off well below that), besides the caps
 * per user and per ticket.
 */
export const realtimeModule = defineFeatureModule({
  name: 'realtime',
  handlers: [createTicketHandler, broadcastHandler, streamHandler],
  rateRules: { 'realtime.stream': { capacity: 120, refillPerSecond: 2 } },
  createServices: createRealtimeServices,
});
