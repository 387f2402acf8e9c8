/**
 * What leaves Vitrine, derived from the audit trail as it is written: webhook events (a few
 * lifecycle facts, plus `audit.record` carrying a whole audit record) and the records the SIEM
 * stream sends. Payloads carry ids, roles, reasons, times, hosts and policy names only, built
 * field by field from an allow-list, never by passing a record through; anything that still
 * looks like a credential is blanked on the way out (defence in depth: audit records are built
 * to hold none). Pure; no I/O.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AuditEventType } from '../audit/audit.ts';
import type { ChainedRecord } from '../audit/chain.ts';

// The lifecycle events and the audit record event, as endpoints name them in their filters: one
// list, in the shared contract (the SDK and the OpenAPI document read it there too).
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../contract/webhook-events.ts';
export { WEBHOOK_EVENT_TYPES, type WebhookEventType };

/**
 * The one event that carries a credential (the customer link of a `delivery: "webhook"`
 * session, link-delivery.ts). It is not derived from the audit trail, and no filter selects it,
 * not even `*`: only an endpoint configured with `customerLinks: true` receives it.
 */
export const CUSTOMER_LINK_EVENT = 'session.customer_link' satisfies WebhookEventType;

const FROM_AUDIT: Partial<Record<AuditEventType, WebhookEventType>> = {
  'session.created': 'session.created',
  'consent.given': 'session.consented',
  'consent.declined': 'session.declined',
  'session.ended': 'session.ended',
  'control.granted': 'control.granted',
  'control.revoked': 'control.revoked',
  'navigation.approved': 'navigation.approved',
  // The recording is closed and sealed when this is written: it can be replayed from now on.
  'recording.stopped': 'recording.ready',
  'recording.deleted': 'recording.deleted',
};

/** Detail fields a lifecycle event may carry; everything else in the audit record stays home. */
const LIFECYCLE_DETAILS = ['reason', 'host', 'recording', 'frames', 'recorded', 'to'] as const;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const WebhookEventSchema = z.object({
  id: z.string().regex(/^msg_[a-f0-9]{32}$/),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  timestamp: z.string(),
  data: z.record(z.string(), z.json()),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

/** An audit record as it leaves for the SIEM: the chain's link fields stay home, seq goes along. */
export const OutgoingRecordSchema = z.object({
  seq: z.number().int().positive(),
  at: z.string(),
  type: z.string(),
  session: z.string().optional(),
  actor: z.object({ sub: z.string(), role: z.string() }).optional(),
  policy: z.object({ name: z.string(), version: z.string() }).optional(),
  details: z.record(z.string(), Scalar).optional(),
});
export type OutgoingRecord = z.infer<typeof OutgoingRecordSchema>;

// JWTs, Standard Webhooks secrets, bearer values and URL query strings (which may carry tokens).
const CREDENTIAL = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|whsec_[A-Za-z0-9+/=]+|bearer\s+\S+|\?[^\s"]*=[^\s"]*/gi;

/** Blanks anything credential-like in a string. */
export function scrub(text: string): string {
  return text.replace(CREDENTIAL, '[redacted]');
}

/** Detail fields that hold people's display names (consent.given's agents): ids say who, names stay home. */
// consentText names the agents too.
const NAME_DETAILS = new Set(['agents', 'name', 'consentText']);

function scrubDetails(details: ChainedRecord['details']): OutgoingRecord['details'] {
  if (!details) return undefined;
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(details)) if (!NAME_DETAILS.has(k)) out[k] = typeof v === 'string' ? scrub(v) : v;
  return out;
}

/** The record for the SIEM (and the `audit.record` event). */
export function outgoingRecord(rec: ChainedRecord): OutgoingRecord {
  return {
    seq: rec.seq,
    at: rec.at,
    type: rec.type,
    ...(rec.session ? { session: rec.session } : {}),
    ...(rec.actor ? { actor: { sub: scrub(rec.actor.sub), role: rec.actor.role } } : {}),
    ...(rec.policy ? { policy: { name: rec.policy.name, version: rec.policy.version } } : {}),
    ...(rec.details ? { details: scrubDetails(rec.details) } : {}),
  };
}

/**
 * The webhook id is derived from the audit record's MAC (unique in its chain) and the event
 * type, so an event re-queued after a crash keeps its id and receivers can de-duplicate.
 */
export function webhookId(rec: ChainedRecord, type: WebhookEventType): string {
  return `msg_${createHash('sha256').update(`${rec.mac}:${type}`).digest('hex').slice(0, 32)}`;
}

/** Webhook events one audit record gives: its lifecycle event, if any, and `audit.record`. */
export function webhookEventsFor(rec: ChainedRecord): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  const lifecycle = FROM_AUDIT[rec.type];
  if (lifecycle) {
    const data: WebhookEvent['data'] = { auditSeq: rec.seq };
    if (rec.session) data.session = rec.session;
    if (rec.actor) data.actor = { sub: scrub(rec.actor.sub), role: rec.actor.role };
    if (rec.policy) data.policy = { name: rec.policy.name, version: rec.policy.version };
    for (const k of LIFECYCLE_DETAILS) {
      const v = rec.details?.[k];
      if (v !== undefined) data[k] = typeof v === 'string' ? scrub(v) : v;
    }
    out.push({ id: webhookId(rec, lifecycle), type: lifecycle, timestamp: rec.at, data });
  }
  const r = outgoingRecord(rec);
  out.push({ id: webhookId(rec, 'audit.record'), type: 'audit.record', timestamp: rec.at, data: { record: r } });
  return out;
}

/** An endpoint's filter: exact names, `*`, or a prefix such as `session.*`. */
export function matchesFilter(filter: readonly string[], type: WebhookEventType): boolean {
  if (type === CUSTOMER_LINK_EVENT) return false;
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}
