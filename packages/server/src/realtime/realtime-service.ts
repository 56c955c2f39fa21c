import type { Condition, RealtimeTicket } from '@plinth/protocol';
import type { Logger } from 'pino';
import { usersRepository } from '../accounts/users-repository.js';
import { createSchemaCache, type TableInfo } from '../data/schema-introspection.js';
import type { Database } from '../database/database.js';
import { publishEvent } from '../events/event-log.js';
import { HttpError } from '../http/http-error.js';
import { authChangesChannel } from '../sessions/session-check-cache.js';
import { createEventHub, type EventHub } from './event-hub.js';
import { type OpenStream, openEventStream, type RowMatcher } from './event-stream.js';
import { compileRowFilter } from './row-filter.js';
import type { RealtimeTickets, TicketClaims } from './tickets.js';

/** Settings of the realtime feature (`realtime` in the configuration). */
export interface RealtimeOptions {
  /** Events older than this are deleted. Default a day. */
  readonly retentionSeconds?: number | undefined;
  /** At most this many events are kept (the newest). Default 100 000. */
  readonly retentionEvents?: number | undefined;
  /** A comment on every open stream this often, in ms. Default 15 000. */
  readonly heartbeatMs?: number | undefined;
  /** Streams one user may hold open on one instance. Default 10. */
  readonly maxStreamsPerUser?: number | undefined;
  /** Streams one ticket may hold open at once (a reconnect may overlap the old one). Default 2. */
  readonly maxStreamsPerTicket?: number | undefined;
  /** How often the log is read while nothing wakes it, in ms (a lost NOTIFY). Default 1000. */
  readonly pollMs?: number | undefined;
}

/** What `createTicket` takes, as the route's schema gave it. */
export interface TicketRequest {
  readonly channels?: readonly string[] | undefined;
  readonly tables?: readonly string[] | undefined;
  readonly where?: Condition | undefined;
  readonly userId?: string | undefined;
  readonly sessionId?: string | undefined;
  readonly expiresIn?: number | undefined;
}

export interface RealtimeService {
  /** Mints a ticket, after checking its tables are published and its filter fits them. */
  createTicket(request: TicketRequest): Promise<RealtimeTicket>;
  /** Writes a broadcast to the log; answers its id. */
  broadcast(channel: string, event: string, payload: unknown): Promise<{ id: string }>;
  /** The claims of a ticket this server signed; a 401 for a forged or expired one. */
  verifyTicket(ticket: string): TicketClaims;
  /** Opens the stream a ticket allows, from `lastEventId` on. */
  openStream(claims: TicketClaims, lastEventId: string | undefined): Promise<Response>;
  /** Deletes events past the retention; answers how many. */
  prune(): Promise<number>;
  /** Ends every stream (`server_closing`) and stops reading the log. */
  close(): Promise<void>;
  /** Streams open on this instance. */
  readonly openStreams: number;
}

const defaultTicketSeconds = 600;
const maxBroadcastBytes = 64 * 1024;
const reservedPrefixes = ['table:', 'storage:', 'plinth:'];

/** `messages` → `public.messages`. */
const qualified = (table: string) => (table.includes('.') ? table : `public.${table}`);

/**
 * Realtime over the durable event log: tickets (signed, expiring, naming what a stream may
 * hear), broadcasts, and streams fed by this instance's {@link EventHub}. A stream ends when its
 * ticket expires, and within a second when the session or user it was minted for is revoked or
 * disabled (the database announces both on `plinth_auth_changes`). Retention deletes events by
 * age and count every minute.
 *
 * @example
 * ```ts
 * const realtime = await createRealtimeService({ database, logger, tickets, streamUrl: () => url });
 * const { ticket } = await realtime.createTicket({ tables: ['messages'], where: { column: 'room_id', op: 'eq', value: 1 } });
 * ```
 */
export async function createRealtimeService({
  database,
  logger,
  tickets,
  streamUrl,
  options = {},
}: {
  database: Database;
  logger: Logger;
  tickets: RealtimeTickets;
  /** The stream's absolute URL, as browsers reach it. */
  streamUrl: () => string;
  options?: RealtimeOptions;
}): Promise<RealtimeService> {
  const retentionSeconds = options.retentionSeconds ?? 24 * 3600;
  const retentionEvents = options.retentionEvents ?? 100_000;
  const maxPerUser = options.maxStreamsPerUser ?? 10;
  const maxPerTicket = options.maxStreamsPerTicket ?? 2;
  const hub: EventHub = await createEventHub({ database, logger, pollMs: options.pollMs ?? 1000 });
  const streams = new Set<OpenStream>();
  const byUser = new Map<string, number>();
  const byTicket = new Map<string, number>();
  // One cache per schema a published table lives in, kept like the data API's.
  const schemaCaches = new Map<string, ReturnType<typeof createSchemaCache>>();
  const schemaCache = (schema: string) => {
    let cache = schemaCaches.get(schema);
    if (!cache) {
      cache = createSchemaCache(database, [schema]);
      schemaCaches.set(schema, cache);
    }
    return cache;
  };
  const count = (map: Map<string, number>, key: string | undefined, step: 1 | -1) => {
    if (key === undefined) return;
    const next = (map.get(key) ?? 0) + step;
    if (next > 0) map.set(key, next);
    else map.delete(key);
  };

  const publishedTable = async (name: string, field: string): Promise<TableInfo> => {
    const [schema, table] = qualified(name).split('.') as [string, string];
    const [row] = await database.query<{ excluded: string[] | string }>(
      'SELECT excluded_columns AS excluded FROM plinth.realtime_tables WHERE table_schema = $1 AND table_name = $2',
      [schema, table],
    );
    if (!row) {
      throw new HttpError(
        'validation_failed',
        `${field}: the table ${schema}.${table} is not published; publish it (plinth realtime publish ${schema}.${table}, the realtime.tables setting, or SELECT plinth.publish_table('${schema}.${table}') in your schema).`,
        { field },
      );
    }
    const info = await schemaCache(schema).findTable(schema, table);
    if (!info) throw new HttpError('validation_failed', `${field}: no table ${schema}.${table}.`, { field });
    // Excluded columns are never sent, so a filter on one could never be checked.
    const excluded = new Set(typeof row.excluded === 'string' ? [] : row.excluded);
    const column = new Map([...info.column].filter(([name]) => !excluded.has(name)));
    return { ...info, column, columns: info.columns.filter((c) => !excluded.has(c.name)) };
  };

  const matchersOf = async (claims: Pick<TicketClaims, 'tables' | 'where'>) => {
    const matchers = new Map<string, RowMatcher | undefined>();
    for (const [index, name] of claims.tables.entries()) {
      const table = await publishedTable(name, `tables.${index}`);
      const where = claims.where;
      matchers.set(
        `table:${table.schema}.${table.name}`,
        where === undefined ? undefined : compileRowFilter(where, (column) => table.column.get(column), 'where'),
      );
    }
    return matchers;
  };

  const users = usersRepository(database);
  const sessionLive = (sessionId: string) => users.activeSessionOwner(sessionId);
  const userLive = async (userId: string) => (await users.status(userId)) === 'active';

  // A revoked session or a changed user: the streams minted for them are checked at once.
  const stopListening = await database.listen(authChangesChannel, (payload) => {
    const [kind, id] = [payload.slice(0, 2), payload.slice(2)];
    const affected = [...streams].filter((stream) =>
      kind === 's:' ? stream.claims.sessionId === id : kind === 'u:' && stream.claims.userId === id,
    );
    if (affected.length === 0) return;
    (async () => {
      if (kind === 's:' && !(await sessionLive(id))) {
        for (const stream of affected)
          stream.end('session_revoked', 'The session this stream was opened for was revoked or has expired.');
      } else if (kind === 'u:' && !(await userLive(id))) {
        for (const stream of affected)
          stream.end('user_removed', 'The user this stream was opened for was removed or disabled.');
      }
    })().catch((error: unknown) => logger.warn({ err: error }, 'realtime: checking a revoked session failed'));
  });

  const prune = async () => {
    return database.transaction(async (tx) => {
      // Never past what webhooks have made deliveries of (schema/013-webhooks.sql) while an
      // endpoint is enabled: an event pruned before that would never reach it. With none, no
      // event is owed to anyone (an endpoint made later takes only events after it).
      const [cut] = await tx.query<{ through: string | null }>(
        `SELECT CASE WHEN old.through IS NULL THEN NULL
                     WHEN NOT EXISTS (SELECT 1 FROM plinth.webhook_endpoints WHERE enabled) THEN old.through
                     ELSE least(old.through, w.dispatched_through) END::text AS through
           FROM (SELECT greatest(
             (SELECT max(id) FROM plinth.events WHERE created_at < now() - make_interval(secs => $1)),
             (SELECT id FROM plinth.events ORDER BY id DESC OFFSET $2 LIMIT 1)) AS through) AS old,
           plinth.webhook_state AS w`,
        [retentionSeconds, retentionEvents],
      );
      if (!cut?.through) return 0;
      await tx.query('UPDATE plinth.realtime_state SET pruned_through = greatest(pruned_through, $1::bigint)', [
        cut.through,
      ]);
      const deleted = await tx.run('DELETE FROM plinth.events WHERE id <= $1::bigint', [cut.through]);
      return deleted.rowCount;
    });
  };
  const pruneQuietly = () =>
    prune().catch((error: unknown) => logger.warn({ err: error }, 'realtime: pruning old events failed'));
  const pruner = setInterval(pruneQuietly, 60_000);
  pruner.unref();

  return {
    get openStreams() {
      return streams.size;
    },

    async createTicket(request) {
      const channels = [...new Set(request.channels ?? [])];
      const tables = [...new Set((request.tables ?? []).map(qualified))];
      if (channels.length === 0 && tables.length === 0) {
        throw new HttpError(
          'validation_failed',
          'channels, tables: a ticket names at least one channel or published table to hear.',
          { field: 'channels' },
        );
      }
      for (const [index, channel] of channels.entries()) {
        // Accounts and sessions of every user: webhooks carry them, never a browser's stream.
        if (channel.startsWith('plinth:')) {
          throw new HttpError(
            'validation_failed',
            `channels.${index}: ${channel} is one of the server's own channels; a ticket names channels of your app's, or tables.`,
            { field: `channels.${index}` },
          );
        }
        if (channel.startsWith('table:')) {
          throw new HttpError(
            'validation_failed',
            `channels.${index}: name the table in tables (${channel.slice(6)}), where its filter applies, not as a channel.`,
            { field: `channels.${index}` },
          );
        }
      }
      if (request.where !== undefined && tables.length === 0) {
        throw new HttpError('validation_failed', 'where: a filter applies to the rows of tables; name at least one.', {
          field: 'where',
        });
      }
      // Checked now, so a ticket that could never work is refused when it is minted.
      await matchersOf({ tables, where: request.where });
      let userId = request.userId;
      if (request.sessionId !== undefined) {
        const owner = await sessionLive(request.sessionId);
        if (owner === undefined || (userId !== undefined && owner !== userId)) {
          throw new HttpError(
            'validation_failed',
            `sessionId: no live session with this id${userId === undefined ? '' : ' for this user'}.`,
            { field: 'sessionId' },
          );
        }
        userId = owner;
      } else if (userId !== undefined && !(await userLive(userId))) {
        throw new HttpError('validation_failed', 'userId: no active user with this id.', { field: 'userId' });
      }
      const expiresAt = Date.now() + (request.expiresIn ?? defaultTicketSeconds) * 1000;
      const ticket = tickets.sign({
        channels,
        tables,
        where: request.where,
        userId,
        sessionId: request.sessionId,
        expiresAt,
      });
      return { ticket, url: streamUrl(), expiresAt: new Date(expiresAt).toISOString() };
    },

    async broadcast(channel, event, payload) {
      if (reservedPrefixes.some((prefix) => channel.startsWith(prefix))) {
        throw new HttpError(
          'validation_failed',
          `channel: ${channel} is one of the server's own channels (${reservedPrefixes.join(', ')}); broadcast on a channel of your app's.`,
          { field: 'channel' },
        );
      }
      const size = Buffer.byteLength(JSON.stringify(payload ?? null));
      if (size > maxBroadcastBytes) {
        throw new HttpError(
          'validation_failed',
          `payload: ${size} bytes as JSON, over the ${maxBroadcastBytes} a broadcast may carry; send an id and let subscribers fetch the rest.`,
          { field: 'payload' },
        );
      }
      // One statement is its own transaction (the log's lock is held to its commit): one round
      // trip to the database where BEGIN … COMMIT took three.
      const id = await publishEvent(database, channel, event, payload ?? null);
      return { id };
    },

    async openStream(claims, lastEventId) {
      if (lastEventId !== undefined && !/^\d{1,19}$/.test(lastEventId)) {
        throw new HttpError(
          'validation_failed',
          'last-event-id: an event id is the digits of the last id: message the stream sent.',
          { field: 'last-event-id' },
        );
      }
      if (claims.sessionId !== undefined && (await sessionLive(claims.sessionId)) === undefined) {
        throw new HttpError('session_expired', 'The session this ticket was minted for was revoked or has expired.');
      }
      if (claims.sessionId === undefined && claims.userId !== undefined && !(await userLive(claims.userId))) {
        throw new HttpError('session_expired', 'The user this ticket was minted for was removed or disabled.');
      }
      const tooMany = (what: string, limit: number) =>
        new HttpError(
          'rate_limited',
          `${what} already has ${limit} realtime streams open on this server; close one (subscription.close()) before opening another.`,
          { limit },
          { 'retry-after': '1' },
        );
      if ((byTicket.get(claims.id) ?? 0) >= maxPerTicket) throw tooMany('This ticket', maxPerTicket);
      if (claims.userId !== undefined && (byUser.get(claims.userId) ?? 0) >= maxPerUser)
        throw tooMany('This user', maxPerUser);
      const matchers = await matchersOf(claims);
      count(byTicket, claims.id, 1);
      count(byUser, claims.userId, 1);
      const uncount = () => {
        count(byTicket, claims.id, -1);
        count(byUser, claims.userId, -1);
      };
      try {
        const { response, stream } = await openEventStream({
          claims,
          lastEventId,
          matchers,
          database,
          hub,
          logger,
          heartbeatMs: options.heartbeatMs ?? 15_000,
          retryMs: 2000,
          onClose: (closed) => {
            streams.delete(closed);
            uncount();
          },
        });
        streams.add(stream);
        return response;
      } catch (error) {
        // Not opened (the database is down: 503): it holds no place in the limits.
        uncount();
        throw error;
      }
    },

    verifyTicket: (ticket) => tickets.verify(ticket),

    prune,

    async close() {
      clearInterval(pruner);
      for (const stream of [...streams])
        stream.end('server_closing', 'The server is shutting down; reconnect to another instance.');
      await stopListening();
      await hub.close();
    },
  };
}
