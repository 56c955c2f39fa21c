import { type CallOptions, callAs, type Transport } from '@plinth/core';
import {
  createWebhookEndpointRoute,
  deleteWebhookEndpointRoute,
  getWebhookDeliveryRoute,
  getWebhookEndpointRoute,
  listWebhookDeliveriesRoute,
  listWebhookEndpointsRoute,
  redeliverWebhookRoute,
  rotateWebhookSecretRoute,
  updateWebhookEndpointRoute,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
  type webhookDeliveryStatuses,
} from '@plinth/protocol';
import { definedOnly } from './defined-only.js';
import { followCursor } from './follow-cursor.js';

/** What an endpoint subscribes to: event types, or `*` for every one of them. */
export type WebhookEventFilter = readonly (WebhookEventType | '*')[];

/** A new endpoint. */
export interface CreateWebhookEndpointOptions {
  /** Where deliveries are POSTed: http or https, at most 2 048 characters, a public address. */
  url: string;
  /** The event types it receives (`webhookEventTypes`), or `['*']` for all. */
  events: WebhookEventFilter;
  /** For people reading the list; at most 500 characters. */
  description?: string | undefined;
  /** Default true; false keeps the endpoint but sends it nothing. */
  enabled?: boolean | undefined;
}

/** A change to an endpoint; fields left out are kept. */
export interface UpdateWebhookEndpointOptions {
  url?: string | undefined;
  /** Replaces the list whole (not merged). */
  events?: WebhookEventFilter | undefined;
  description?: string | undefined;
  /**
   * True re-enables an endpoint the server disabled (it answered 410, or failed for 5 days); its
   * pending deliveries go out again.
   */
  enabled?: boolean | undefined;
}

/** One page request of `webhooks.list`. */
export interface ListWebhookEndpointsOptions {
  /** 1 to 1000; default 100. */
  limit?: number | undefined;
  /** The `nextCursor` of the previous page, unchanged. */
  cursor?: string | undefined;
}

/** One page request of `webhooks.deliveries`. */
export interface ListWebhookDeliveriesOptions extends ListWebhookEndpointsOptions {
  /** Only deliveries in this state: waiting for an attempt, delivered (a 2xx), or given up. */
  status?: (typeof webhookDeliveryStatuses)[number] | undefined;
}

/** `admin.webhooks`: endpoints that receive the server's events, and the record of every delivery. */
export interface AdminWebhooks {
  /**
   * Adds an endpoint. `secret` (`whsec_…`) is in this answer and `rotateSecret`'s only: store it
   * now, where the receiver's `verifyWebhook` reads it.
   *
   * @example
   * ```ts
   * const { endpoint, secret } = await admin.webhooks.create({
   *   url: 'https://example.com/plinth-webhook',
   *   events: ['user.created', 'user.deleted'],
   *   description: 'CRM sync',
   * });
   * await admin.secrets.put('PLINTH_WEBHOOK_SECRET', secret);
   * ```
   */
  create(
    endpoint: CreateWebhookEndpointOptions,
    callOptions?: CallOptions,
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }>;

  /**
   * One page of endpoints, oldest first; never a secret.
   *
   * @example
   * ```ts
   * const { endpoints, nextCursor } = await admin.webhooks.list({ limit: 50 });
   * ```
   */
  list(
    options?: ListWebhookEndpointsOptions,
    callOptions?: CallOptions,
  ): Promise<{ endpoints: WebhookEndpoint[]; nextCursor: string | null }>;

  /**
   * Every endpoint, one at a time, fetching page after page (of `pageSize`, default 1000) as the
   * loop asks for more.
   *
   * @example
   * ```ts
   * for await (const endpoint of admin.webhooks.listAll()) {
   *   if (!endpoint.enabled) console.log(endpoint.url, endpoint.disabledReason);
   * }
   * ```
   */
  listAll(options?: { pageSize?: number | undefined }, callOptions?: CallOptions): AsyncIterable<WebhookEndpoint>;

  /**
   * One endpoint; `NotFoundError` if there is none.
   *
   * @example
   * ```ts
   * const endpoint = await admin.webhooks.get('whe_01jf8x…');
   * ```
   */
  get(id: string, callOptions?: CallOptions): Promise<WebhookEndpoint>;

  /**
   * Changes an endpoint; the endpoint after.
   *
   * @example
   * ```ts
   * // Back on after the server disabled it (it answered 410, or failed every delivery for 5 days).
   * await admin.webhooks.update(endpoint.id, { enabled: true });
   * ```
   */
  update(id: string, changes: UpdateWebhookEndpointOptions, callOptions?: CallOptions): Promise<WebhookEndpoint>;

  /**
   * Removes an endpoint and its deliveries; `deleted` is false if there was none.
   *
   * @example
   * ```ts
   * const { deleted } = await admin.webhooks.delete(endpoint.id);
   * ```
   */
  delete(id: string, callOptions?: CallOptions): Promise<{ deleted: boolean }>;

  /**
   * A new signing secret, in this answer only. The old one keeps signing alongside it for 24 h
   * (until `endpoint.previousSecretExpiresAt`), so receivers can switch without losing a delivery.
   *
   * @example
   * ```ts
   * const { secret } = await admin.webhooks.rotateSecret(endpoint.id);
   * await admin.secrets.put('PLINTH_WEBHOOK_SECRET', secret);
   * ```
   */
  rotateSecret(id: string, callOptions?: CallOptions): Promise<{ endpoint: WebhookEndpoint; secret: string }>;

  /**
   * One page of an endpoint's deliveries, newest first.
   *
   * @example
   * ```ts
   * const { deliveries } = await admin.webhooks.deliveries(endpoint.id, { status: 'failed', limit: 20 });
   * ```
   */
  deliveries(
    id: string,
    options?: ListWebhookDeliveriesOptions,
    callOptions?: CallOptions,
  ): Promise<{ deliveries: WebhookDelivery[]; nextCursor: string | null }>;

  /**
   * One delivery and every attempt of it (status, error, the start of the answer, duration).
   *
   * @example
   * ```ts
   * const { delivery, attempts } = await admin.webhooks.getDelivery('msg_01jf8y…');
   * for (const a of attempts) console.log(a.attempt, a.status ?? a.error, a.excerpt);
   * ```
   */
  getDelivery(
    deliveryId: string,
    callOptions?: CallOptions,
  ): Promise<{ delivery: WebhookDelivery; attempts: WebhookAttempt[] }>;

  /**
   * Sends a delivery again, now: the same delivery (same `webhook-id`, so receivers still
   * deduplicate it), pending again.
   *
   * @example
   * ```ts
   * const delivery = await admin.webhooks.redeliver('msg_01jf8y…');
   * ```
   */
  redeliver(deliveryId: string, callOptions?: CallOptions): Promise<WebhookDelivery>;
}

/**
 * The webhooks namespace of the admin client, over a transport with the service key (or an
 * `admin` API key). Every method throws `MissingServiceKeyError` synchronously, before any
 * request, on a transport without one.
 *
 * @example
 * ```ts
 * const webhooks = createWebhooksClient(createTransport({ url, serviceKey: process.env.PLINTH_SERVICE_KEY }));
 * const { endpoint, secret } = await webhooks.create({ url: 'https://example.com/hook', events: ['*'] });
 * ```
 */
export function createWebhooksClient(transport: Transport): AdminWebhooks {
  return {
    create: (endpoint, callOptions) =>
      callAs(
        transport,
        createWebhookEndpointRoute,
        'admin.webhooks.create()',
        {
          url: endpoint.url,
          // A copy: `webhookEventTypes` itself is a readonly tuple, and the route takes an array.
          events: [...endpoint.events],
          ...definedOnly({ description: endpoint.description, enabled: endpoint.enabled }),
        },
        callOptions,
      ),

    list: (options = {}, callOptions) =>
      callAs(
        transport,
        listWebhookEndpointsRoute,
        'admin.webhooks.list()',
        definedOnly({ limit: options.limit, cursor: options.cursor }),
        callOptions,
      ),

    listAll(options = {}, callOptions) {
      // Checked here, not at the first page: the mistake surfaces where the loop is written.
      transport.assertCallable(listWebhookEndpointsRoute, 'admin.webhooks.listAll()');
      const { pageSize = 1000 } = options;
      return followCursor(
        (cursor) =>
          callAs(
            transport,
            listWebhookEndpointsRoute,
            'admin.webhooks.listAll()',
            definedOnly({ limit: pageSize, cursor }),
            callOptions,
          ),
        (page) => page.endpoints,
      );
    },

    get: (id, callOptions) =>
      callAs(transport, getWebhookEndpointRoute, 'admin.webhooks.get()', { id }, callOptions).then((a) => a.endpoint),

    // id last: a changes object from elsewhere cannot redirect the update.
    update: (id, changes, callOptions) =>
      callAs(
        transport,
        updateWebhookEndpointRoute,
        'admin.webhooks.update()',
        {
          ...definedOnly({
            url: changes.url,
            events: changes.events === undefined ? undefined : [...changes.events],
            description: changes.description,
            enabled: changes.enabled,
          }),
          id,
        },
        callOptions,
      ).then((a) => a.endpoint),

    delete: (id, callOptions) =>
      callAs(transport, deleteWebhookEndpointRoute, 'admin.webhooks.delete()', { id }, callOptions),

    rotateSecret: (id, callOptions) =>
      callAs(transport, rotateWebhookSecretRoute, 'admin.webhooks.rotateSecret()', { id }, callOptions),

    deliveries: (id, options = {}, callOptions) =>
      callAs(
        transport,
        listWebhookDeliveriesRoute,
        'admin.webhooks.deliveries()',
        { ...definedOnly({ status: options.status, limit: options.limit, cursor: options.cursor }), id },
        callOptions,
      ),

    getDelivery: (deliveryId, callOptions) =>
      callAs(transport, getWebhookDeliveryRoute, 'admin.webhooks.getDelivery()', { deliveryId }, callOptions),

    redeliver: (deliveryId, callOptions) =>
      callAs(transport, redeliverWebhookRoute, 'admin.webhooks.redeliver()', { deliveryId }, callOptions).then(
        (a) => a.delivery,
      ),
  };
}
