/**
 * The webhook events as a receiver sees them: the JSON body `{type, timestamp, data}` the
 * sender (server/integrations/webhooks.ts) posts, signed per Standard Webhooks with the event id
 * in the `webhook-id` header. The SDK (sdk/src/webhooks.ts) parses received events with these
 * schemas after checking the signature.
 *
 * The sender builds its payloads in server/integrations/events.ts; that module uses node:crypto
 * and cannot go into the SDK bundle, so the shapes are restated here and test/sdk.test.ts checks
 * that both name the same event types and that the sender's payloads parse. Node-free.
 */
import { z } from 'zod';

export const WEBHOOK_EVENT_TYPES = [
  'session.created',
  'session.consented',
  'session.declined',
  'session.ended',
  'control.granted',
  'control.revoked',
  'navigation.approved',
  'recording.ready',
  'recording.deleted',
  'audit.record',
  'session.customer_link',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const Actor = z.object({ sub: z.string(), role: z.string() });
const PolicyStamp = z.object({ name: z.string(), version: z.string() });

/**
 * A lifecycle event's facts: ids, roles, reasons, hosts, policy names, never content or
 * credentials. Loose on purpose: a sender may add facts, and a receiver must not break on them.
 */
export const LifecycleDataSchema = z.looseObject({
  /** Sequence number of the audit record this event came from (ordering, de-duplication). */
  auditSeq: z.number().int(),
  session: z.string().optional(),
  actor: Actor.optional(),
  policy: PolicyStamp.optional(),
  /** session.ended: why (EndReason); declined and others may carry one too. */
  reason: Scalar.optional(),
  host: Scalar.optional(),
  recording: Scalar.optional(),
  frames: Scalar.optional(),
  recorded: Scalar.optional(),
  /** navigation.approved: where to. */
  to: Scalar.optional(),
});

/** A whole audit record as it leaves for a SIEM (the chain's link fields stay home). */
export const OutgoingAuditRecordSchema = z.object({
  seq: z.number().int().positive(),
  at: z.string(),
  type: z.string(),
  session: z.string().optional(),
  actor: Actor.optional(),
  policy: PolicyStamp.optional(),
  details: z.record(z.string(), Scalar).optional(),
});

/**
 * `session.customer_link`: the customer link of a session started with `delivery: "webhook"`,
 * for the company's messaging to hand to the customer (`customerRef` says whom). It is the
 * customer's credential: only endpoints configured with `customerLinks: true` receive it (never
 * by a filter, not even `*`). Send it to that customer only, never store or log it; it stops
 * working at `expiresAt` or once used.
 */
export const CustomerLinkDataSchema = z.object({
  session: z.string(),
  /** The company's own reference for the customer, as the agent's system passed it. */
  customerRef: z.string(),
  /** The link to send; its fragment holds the single-use invite. */
  customerUrl: z.url(),
  expiresAt: z.string(),
  /** Who started the session (`sub`; no display names leave Vitrine). */
  agent: z.object({ sub: z.string() }),
});

const lifecycle = <T extends Exclude<WebhookEventType, 'audit.record' | 'session.customer_link'>>(type: T) => z.object({ type: z.literal(type), timestamp: z.string(), data: LifecycleDataSchema });

export const WebhookPayloadSchema = z.discriminatedUnion('type', [
  lifecycle('session.created'),
  lifecycle('session.consented'),
  lifecycle('session.declined'),
  lifecycle('session.ended'),
  lifecycle('control.granted'),
  lifecycle('control.revoked'),
  lifecycle('navigation.approved'),
  lifecycle('recording.ready'),
  lifecycle('recording.deleted'),
  z.object({ type: z.literal('audit.record'), timestamp: z.string(), data: z.object({ record: OutgoingAuditRecordSchema }) }),
  z.object({ type: z.literal('session.customer_link'), timestamp: z.string(), data: CustomerLinkDataSchema }),
]);
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

/** A verified event: the payload plus the id from `webhook-id` (stable across retries: de-duplicate on it). */
export type WebhookEvent = WebhookPayload & { id: string };
