import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Condition, keyPrefixes } from '@plinth/protocol';
import { HttpError } from '../http/http-error.js';

/** What a ticket grants, as signed into it. */
export interface TicketClaims {
  /** Broadcast channels and `storage:<bucket>` channels, exactly as named. */
  readonly channels: readonly string[];
  /** Published tables, as `schema.table`. */
  readonly tables: readonly string[];
  /** The filter on the tables' rows, checked in memory per event. */
  readonly where?: Condition | undefined;
  readonly userId?: string | undefined;
  readonly sessionId?: string | undefined;
  /** Expiry, in ms since the epoch. */
  readonly expiresAt: number;
  /** A random id: the per-ticket stream cap counts by it. */
  readonly id: string;
}

/** Signs and checks realtime tickets. */
export interface RealtimeTickets {
  sign(claims: Omit<TicketClaims, 'id'>): string;
  /**
   * The claims of `token`; a 401 `unauthenticated` for anything the server did not sign as it
   * is, a 401 `session_expired` for a ticket past its expiry.
   */
  verify(token: string): TicketClaims;
}

// A ticket travels in a header: a where tree larger than this is not a filter anyone needs.
const maxTicketLength = 8192;

const forged = () =>
  new HttpError(
    'unauthenticated',
    'This realtime ticket is not one the server signed as it is (it was changed, cut, or signed by another server). Ask your server for a new one with createTicket().',
  );

/**
 * Tickets signed with HMAC-SHA256 under `key` (derived from a secret every instance shares, so a
 * ticket one instance minted works on all): `tk_<base64url of the claims' JSON>.<base64url of
 * the MAC>`. The claims are readable by whoever holds the ticket; they say only what it may hear.
 *
 * @example
 * ```ts
 * const tickets = realtimeTickets(key);
 * const ticket = tickets.sign({ channels: ['room:1'], tables: [], expiresAt: Date.now() + 600_000 });
 * tickets.verify(ticket).channels; // ['room:1']
 * ```
 */
export function realtimeTickets(key: Buffer, now: () => number = Date.now): RealtimeTickets {
  const mac = (text: string) => createHmac('sha256', key).update(text).digest();
  return {
    sign(claims) {
      const body = Buffer.from(
        JSON.stringify({
          c: claims.channels,
          t: claims.tables,
          w: claims.where,
          u: claims.userId,
          s: claims.sessionId,
          e: claims.expiresAt,
          i: randomBytes(12).toString('base64url'),
        }),
      ).toString('base64url');
      return `${keyPrefixes.ticket}${body}.${mac(body).toString('base64url')}`;
    },
    verify(token) {
      if (token.length > maxTicketLength || !token.startsWith(keyPrefixes.ticket)) throw forged();
      const [body, signature, extra] = token.slice(keyPrefixes.ticket.length).split('.');
      if (body === undefined || signature === undefined || extra !== undefined) throw forged();
      const presented = Buffer.from(signature, 'base64url');
      const expected = mac(body);
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw forged();
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        throw forged();
      }
      const strings = (value: unknown) =>
        Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
      const channels = strings(raw.c);
      const tables = strings(raw.t);
      if (!channels || !tables || typeof raw.e !== 'number' || typeof raw.i !== 'string') throw forged();
      if (raw.e <= now()) {
        throw new HttpError(
          'session_expired',
          `This realtime ticket expired at ${new Date(raw.e).toISOString()}. Ask your server for a new one (subscribe's getTicket option does it for you), and resume from the last event id.`,
        );
      }
      return {
        channels,
        tables,
        where: raw.w as Condition | undefined,
        userId: typeof raw.u === 'string' ? raw.u : undefined,
        sessionId: typeof raw.s === 'string' ? raw.s : undefined,
        expiresAt: raw.e,
        id: raw.i,
      };
    },
  };
}
