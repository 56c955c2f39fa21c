import * as z from 'zod/mini';

/**
 * The events a webhook endpoint can take, all from the server's durable event log: accounts,
 * sessions, storage objects and row changes of published tables. `*` takes every one of them.
 */
export const webhookEventTypes = [
  'user.created',
  'user.deleted',
  'session.revoked',
  'object.created',
  'object.deleted',
  'row.insert',
  'row.update',
  'row.delete',
] as const;

/** One of {@link webhookEventTypes}. */
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** How many times a delivery is tried before it is given up (the first attempt and 7 retries). */
export const webhookMaxAttempts = 8;

/** An endpoint's URL: http or https, at most 2 048 characters (the server checks the rest). */
const endpointUrl = z.string().check(z.minLength(1), z.maxLength(2048));
const endpointEvents = z
  .array(z.enum([...webhookEventTypes, '*']))
  .check(z.minLength(1), z.maxLength(webhookEventTypes.length + 1));
const endpointDescription = z.string().check(z.maxLength(500));
/** An endpoint id, `whe_` and 26 characters of its own alphabet. */
const endpointId = z.string().check(z.regex(/^whe_[A-Za-z0-9]{1,64}$/));
/** A delivery id, `msg_` and 26 characters: the `webhook-id` header receivers deduplicate by. */
const deliveryId = z.string().check(z.regex(/^msg_[A-Za-z0-9]{1,64}$/));

/** A webhook endpoint, without its signing secret (shown once, at creation and rotation). */
export const webhookEndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string(),
  enabled: z.boolean(),
  /** Why the server disabled it (`gone`: it answered 410; `failing`: it failed for 5 days), else null. */
  disabledReason: z.nullable(z.string()),
  /** Since when every delivery to it has failed, else null. */
  failingSince: z.nullable(z.string()),
  /** Until when the secret before the last rotation still signs alongside the new one, else null. */
  previousSecretExpiresAt: z.nullable(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The states of a delivery: waiting for its next attempt, delivered (a 2xx), or given up. */
export const webhookDeliveryStatuses = ['pending', 'succeeded', 'failed'] as const;

/** One attempt of a delivery, as persisted. */
export const webhookAttemptSchema = z.object({
  attempt: z.number(),
  at: z.string(),
  /** The HTTP status the receiver answered, or null when none came back (timeout, refused, …). */
  status: z.nullable(z.number()),
  /** Why no status came back (`timeout`, `connection_failed`, `private_destination`), else null. */
  error: z.nullable(z.string()),
  /** The first 1 024 bytes of the receiver's answer, or the error's message. */
  excerpt: z.string(),
  durationMs: z.number(),
});

/** One event on its way to one endpoint. */
export const webhookDeliverySchema = z.object({
  id: z.string(),
  endpointId: z.string(),
  eventType: z.string(),
  /** The event log's id of the event. */
  eventId: z.string(),
  status: z.enum(webhookDeliveryStatuses),
  attempts: z.number(),
  /** When the next attempt is due, while pending. */
  nextAttemptAt: z.nullable(z.string()),
  lastStatus: z.nullable(z.number()),
  lastExcerpt: z.nullable(z.string()),
  lastDurationMs: z.nullable(z.number()),
  createdAt: z.string(),
  deliveredAt: z.nullable(z.string()),
});

const endpointAnswer = z.object({ endpoint: webhookEndpointSchema });
const paging = {
  /** Default 100, at most 1 000. */
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000))),
  /** `nextCursor` of the page before. */
  cursor: z.optional(z.string().check(z.maxLength(256))),
};

export const createWebhookEndpointSchemas = {
  request: z.object({
    url: endpointUrl,
    events: endpointEvents,
    description: z.optional(endpointDescription),
    /** Default true. */
    enabled: z.optional(z.boolean()),
  }),
  /** `secret` is shown here and at rotation only: keep it where the receiver can read it. */
  response: z.object({ endpoint: webhookEndpointSchema, secret: z.string() }),
};

export const listWebhookEndpointsSchemas = {
  request: z.object(paging),
  response: z.object({ endpoints: z.array(webhookEndpointSchema), nextCursor: z.nullable(z.string()) }),
};

export const getWebhookEndpointSchemas = {
  request: z.object({ id: endpointId }),
  response: endpointAnswer,
};

export const updateWebhookEndpointSchemas = {
  request: z.object({
    id: endpointId,
    url: z.optional(endpointUrl),
    events: z.optional(endpointEvents),
    description: z.optional(endpointDescription),
    /** true re-enables an endpoint the server disabled; its pending deliveries go out again. */
    enabled: z.optional(z.boolean()),
  }),
  response: endpointAnswer,
};

export const deleteWebhookEndpointSchemas = {
  request: z.object({ id: endpointId }),
  response: z.object({ deleted: z.boolean() }),
};

export const rotateWebhookSecretSchemas = {
  request: z.object({ id: endpointId }),
  /** The new secret; the one before it keeps signing alongside until `previousSecretExpiresAt`. */
  response: z.object({ endpoint: webhookEndpointSchema, secret: z.string() }),
};

export const listWebhookDeliveriesSchemas = {
  request: z.object({
    id: endpointId,
    status: z.optional(z.enum(webhookDeliveryStatuses)),
    ...paging,
  }),
  response: z.object({ deliveries: z.array(webhookDeliverySchema), nextCursor: z.nullable(z.string()) }),
};

export const getWebhookDeliverySchemas = {
  request: z.object({ deliveryId }),
  response: z.object({ delivery: webhookDeliverySchema, attempts: z.array(webhookAttemptSchema) }),
};

export const redeliverWebhookSchemas = {
  request: z.object({ deliveryId }),
  /** The same delivery (same id, so receivers still deduplicate), pending again from now. */
  response: z.object({ delivery: webhookDeliverySchema }),
};

/** A webhook endpoint as the admin routes describe it. */
export type WebhookEndpoint = z.output<typeof webhookEndpointSchema>;
/** A delivery as the admin routes describe it. */
export type WebhookDelivery = z.output<typeof webhookDeliverySchema>;
/** One attempt of a delivery. */
export type WebhookAttempt = z.output<typeof webhookAttemptSchema>;
