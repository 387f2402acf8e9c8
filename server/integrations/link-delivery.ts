/**
 * Customer links over the signed webhooks: the `delivery: "webhook"` option of agent-started
 * sessions (server/http/customer-start-routes.ts, CustomerLinkDelivery). The link is the
 * customer's credential, so this event is the exception to every rule of events.ts, made here
 * and only here:
 *
 * - `session.customer_link` goes only to endpoints configured with `customerLinks: true` (the
 *   company's messaging); no filter selects it, not even `*`.
 * - It is not derived from the audit trail (the trail holds no credentials) and is not scrubbed.
 * - In the endpoint's outbox journal it is sealed: AES-256-GCM under a key derived (HKDF-SHA256)
 *   from that endpoint's own `whsec_` secret, bound to the endpoint id and the webhook id. The
 *   journal on disk shows the webhook id, the event type and the link's expiry, nothing else;
 *   whoever copies the data directory (a backup, a volume snapshot) without the secret — which
 *   is mounted from a secret store, not kept in the data directory — cannot read the link.
 *   Why this key: it exists whenever the endpoint does (the audit and recording keys are
 *   optional), the receiver holds it already, and rotating it makes old journal entries
 *   unreadable, which for a link that expires within minutes loses nothing worth keeping (such an
 *   entry is abandoned with `undecryptable` in the delivery log).
 * - The delivery log and the logs name the webhook id, endpoint and status only.
 * - A link past its expiry is not sent any more (abandoned, `link_expired`): a dead invite is
 *   worth nothing to the customer and the retry would only carry a credential around.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CUSTOMER_LINK_EVENT, type WebhookEvent } from './events.ts';

export { CUSTOMER_LINK_EVENT };

/** What CustomerLinkDelivery.deliver is handed (customer-start-routes.ts). */
export interface CustomerLink {
  session: string;
  customerRef: string;
  customerUrl: string;
  expiresAt: string;
  agent: { sub: string; name: string };
}

/** A sealed customer link as the outbox journal holds it. */
export const SealedLinkSchema = z
  .object({
    sealed: z
      .object({
        id: z.string().regex(/^msg_[a-f0-9]{32}$/),
        type: z.literal(CUSTOMER_LINK_EVENT),
        expiresAt: z.string(),
        box: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
      })
      .strict(),
  })
  .strict();
export type SealedLink = z.infer<typeof SealedLinkSchema>;

const LinkDataSchema = z
  .object({
    session: z.string(),
    customerRef: z.string(),
    customerUrl: z.url(),
    expiresAt: z.string(),
    // The agent's `sub` says who started it; display names stay home, as in every event.
    agent: z.object({ sub: z.string() }).strict(),
  })
  .strict();

/** The event for one link; its id is random (there is no audit record to derive it from) and kept across retries. */
export function customerLinkEvent(link: CustomerLink, now = new Date()): WebhookEvent {
  return {
    id: `msg_${randomBytes(16).toString('hex')}`,
    type: CUSTOMER_LINK_EVENT,
    timestamp: now.toISOString(),
    data: { session: link.session, customerRef: link.customerRef, customerUrl: link.customerUrl, expiresAt: link.expiresAt, agent: { sub: link.agent.sub } },
  };
}

/** Seals and opens one endpoint's customer links (see the top of this file for the key). */
export class LinkSealer {
  readonly #key: Buffer;

  constructor(endpointId: string, whsecSecret: string) {
    const ikm = Buffer.from(whsecSecret.slice('whsec_'.length), 'base64');
    this.#key = Buffer.from(hkdfSync('sha256', ikm, Buffer.from('vitrine-outbox'), Buffer.from(`customer-link v1 ${endpointId}`), 32));
  }

  seal(event: WebhookEvent): SealedLink {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(event.id));
    const ct = Buffer.concat([c.update(JSON.stringify({ timestamp: event.timestamp, data: event.data })), c.final()]);
    const expiresAt = String((event.data as { expiresAt?: unknown }).expiresAt ?? event.timestamp);
    return { sealed: { id: event.id, type: CUSTOMER_LINK_EVENT, expiresAt, box: Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64') } };
  }

  /** The event, or null when the box does not open under this key (a rotated secret, a tampered line). */
  open(s: SealedLink): WebhookEvent | null {
    try {
      const raw = Buffer.from(s.sealed.box, 'base64');
      const d = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      d.setAAD(Buffer.from(s.sealed.id));
      d.setAuthTag(raw.subarray(12, 28));
      const plain = JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as { timestamp: string; data: unknown };
      return { id: s.sealed.id, type: CUSTOMER_LINK_EVENT, timestamp: z.string().parse(plain.timestamp), data: LinkDataSchema.parse(plain.data) };
    } catch {
      return null;
    }
  }
}

export function isSealed(item: WebhookEvent | SealedLink): item is SealedLink {
  return 'sealed' in item;
}
