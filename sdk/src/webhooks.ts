/**
 * Receiving Vitrine's webhook events: the Standard Webhooks signature (webhook-id,
 * webhook-timestamp, webhook-signature; HMAC-SHA256 with the endpoint's whsec_ secret) is checked
 * by the `standardwebhooks` package over the raw body, the timestamp must be within five
 * minutes (replays are refused), and only then is the body parsed with the contract's schema.
 */
import { Webhook } from 'standardwebhooks';
import { WebhookPayloadSchema, type WebhookEvent } from '../../server/contract/webhook-events.ts';
import { WebhookVerificationError } from './errors.ts';

export type { WebhookEvent, WebhookEventType, WebhookPayload } from '../../server/contract/webhook-events.ts';
export { WEBHOOK_EVENT_TYPES } from '../../server/contract/webhook-events.ts';

/** Header values as Node (IncomingHttpHeaders), fetch (Headers) or a plain object give them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string {
  const v = headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()]);
  const value = Array.isArray(v) ? v[0] : v;
  if (!value) throw new WebhookVerificationError(`missing ${name} header`);
  return value;
}

export class WebhookReceiver {
  readonly #webhook: Webhook;

  /** @param secret the endpoint's secret as Vitrine's configuration holds it (`whsec_...`). */
  constructor(secret: string) {
    if (!/^whsec_[A-Za-z0-9+/=]{16,}$/.test(secret)) throw new TypeError("secret: the endpoint's whsec_ secret");
    this.#webhook = new Webhook(secret);
  }

  /**
   * Verifies and parses one delivery. `rawBody` must be the exact bytes received (a re-serialized
   * JSON object would not verify). Throws WebhookVerificationError; answer such a request 400.
   * De-duplicate on `event.id`: a retried delivery keeps its id.
   */
  verify(rawBody: string | Uint8Array, headers: HeaderSource): WebhookEvent {
    const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
    const signed = { 'webhook-id': header(headers, 'webhook-id'), 'webhook-timestamp': header(headers, 'webhook-timestamp'), 'webhook-signature': header(headers, 'webhook-signature') };
    let payload: unknown;
    try {
      payload = this.#webhook.verify(body, signed);
    } catch (e) {
      throw new WebhookVerificationError(`signature refused: ${(e as Error)?.message ?? 'invalid'}`, { cause: e });
    }
    const parsed = WebhookPayloadSchema.safeParse(payload);
    if (!parsed.success) throw new WebhookVerificationError(`signed, but not a Vitrine event (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
    return { ...parsed.data, id: signed['webhook-id'] };
  }
}
