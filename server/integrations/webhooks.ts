/**
 * Signed webhooks: every configured endpoint has its own durable outbox (outbox.ts) and its own
 * sender, which posts the endpoint's events one at a time, in order, signed as the Standard
 * Webhooks specification says (webhook-id, webhook-timestamp, webhook-signature; HMAC-SHA256
 * with the endpoint's whsec_ secret, by the `standardwebhooks` package). A failed attempt (no
 * answer in time, or not 2xx) is retried with exponential backoff and jitter; the endpoint's
 * later events wait behind it, so each endpoint sees its events in order. After the last
 * attempt the event is abandoned (delivery log, warning) and the next one goes.
 *
 * Egress: the endpoint's host is resolved and checked against the server's address policy on
 * every attempt (private, loopback, link-local and metadata addresses are refused unless the
 * host is in VITRINE_INTEGRATION_ALLOW_HOSTS), and the request goes to the address that was
 * checked, so DNS cannot swap it between check and connect. Redirects are never followed.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import type { ChainedRecord } from '../audit/chain.ts';
import type { Logger } from '../log.ts';
import type { UrlGuard } from '../net/url-guard.ts';
import type { DeliveryLog } from './delivery-log.ts';
import { VitrineError } from '../errors.ts';
import { matchesFilter, WebhookEventSchema, webhookEventsFor, type WebhookEvent } from './events.ts';
import type { RetryConfig, WebhookEndpoint } from './integration-config.ts';
import { customerLinkEvent, isSealed, LinkSealer, SealedLinkSchema, type CustomerLink, type SealedLink } from './link-delivery.ts';
import { Outbox } from './outbox.ts';
import { backoffDelay, pause } from './retry.ts';

export interface WebhookDeps {
  dir: string;
  guard: UrlGuard;
  retry: RetryConfig;
  maxAttempts: number;
  timeoutMs: number;
  maxEntries: number;
  /** Audit head at start: where a new endpoint's outbox begins. */
  startAt: number;
  log: Logger;
  deliveries: DeliveryLog;
}

export interface EndpointStatus {
  endpoint: string;
  pending: number;
  dropped: number;
  attempt: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

type AttemptResult = { ok: true; status: number } | { ok: false; status?: number; error: string };

/** The body as the specification shapes it: type, timestamp, data. */
export function webhookBody(event: WebhookEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
}

export class EndpointSender {
  readonly endpoint: WebhookEndpoint;
  readonly #deps: WebhookDeps;
  /** Audit-derived events in clear; customer links sealed (link-delivery.ts). */
  readonly #outbox: Outbox<WebhookEvent | SealedLink>;
  readonly #signer: Webhook;
  readonly #sealer: LinkSealer;
  readonly #abort = new AbortController();
  #wake: (() => void) | null = null;
  #attempt = 0;
  #nextAttemptAt: string | null = null;
  #lastError: string | null = null;
  readonly #loop: Promise<void>;

  constructor(endpoint: WebhookEndpoint, deps: WebhookDeps) {
    this.endpoint = endpoint;
    this.#deps = deps;
    this.#signer = new Webhook(endpoint.secret);
    this.#sealer = new LinkSealer(endpoint.id, endpoint.secret);
    this.#outbox = new Outbox(join(deps.dir, `${endpoint.id}.outbox`), { schema: z.union([WebhookEventSchema, SealedLinkSchema]), maxEntries: deps.maxEntries, startAt: deps.startAt });
    this.#outbox.onAppend(() => this.#poke());
    this.#loop = this.#run();
  }

  /** The last audit seq this endpoint has taken in. */
  get cursor(): number {
    return this.#outbox.sourceCursor;
  }

  /** Queues what the endpoint's filter wants of one audit record. */
  take(rec: ChainedRecord, events: WebhookEvent[] = webhookEventsFor(rec)): void {
    const wanted = events.filter((e) => matchesFilter(this.endpoint.events, e.type));
    if (!wanted.length) return this.#outbox.skip(rec.seq);
    for (const e of wanted) {
      if (this.#outbox.append(e, rec.seq)) continue;
      this.#deps.deliveries.append({
        at: new Date().toISOString(),
        endpoint: this.endpoint.id,
        event: e.type,
        webhookId: e.id,
        auditSeq: rec.seq,
        attempt: 0,
        outcome: 'dropped',
        error: 'outbox_full',
        ms: 0,
      });
      this.#deps.log.error({ endpoint: this.endpoint.id, event: e.type, pending: this.#outbox.size }, 'webhook outbox full: event dropped');
    }
  }

  /**
   * Queues a customer link (only on an endpoint with customerLinks: true), sealed, and returns
   * once its journal line is on disk: no audit record could bring it back after a crash. The
   * same retries and delivery log as every event follow; the log names the webhook id only.
   */
  queueLink(link: CustomerLink): { webhookId: string } {
    if (!this.endpoint.customerLinks) throw new VitrineError('DELIVERY_UNAVAILABLE', `endpoint ${this.endpoint.id} does not take customer links`);
    const event = customerLinkEvent(link);
    // src 0: not from the audit trail, so it moves no audit cursor.
    if (!this.#outbox.append(this.#sealer.seal(event), 0)) {
      this.#deps.deliveries.append({
        at: new Date().toISOString(),
        endpoint: this.endpoint.id,
        event: event.type,
        webhookId: event.id,
        auditSeq: 0,
        attempt: 0,
        outcome: 'dropped',
        error: 'outbox_full',
        ms: 0,
      });
      this.#deps.log.error({ endpoint: this.endpoint.id, event: event.type, pending: this.#outbox.size }, 'webhook outbox full: customer link refused');
      throw new VitrineError('DELIVERY_UNAVAILABLE', 'the delivery queue is full');
    }
    this.#outbox.flush();
    return { webhookId: event.id };
  }

  status(): EndpointStatus {
    return { endpoint: this.endpoint.id, pending: this.#outbox.size, dropped: this.#outbox.dropped, attempt: this.#attempt, nextAttemptAt: this.#nextAttemptAt, lastError: this.#lastError };
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const entry = this.#outbox.peek();
      if (!entry) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      let event: WebhookEvent;
      if (isSealed(entry.data)) {
        const sealed = entry.data.sealed;
        const opened = Date.parse(sealed.expiresAt) > Date.now() ? this.#sealer.open(entry.data) : null;
        if (!opened) {
          // Expired (a dead invite helps nobody) or sealed under a secret since rotated: given up, in ids only.
          const error = Date.parse(sealed.expiresAt) > Date.now() ? 'undecryptable' : 'link_expired';
          this.#deps.deliveries.append({
            at: new Date().toISOString(),
            endpoint: this.endpoint.id,
            event: sealed.type,
            webhookId: sealed.id,
            auditSeq: 0,
            attempt: this.#attempt,
            outcome: 'abandoned',
            error,
            ms: 0,
          });
          this.#deps.log.warn({ endpoint: this.endpoint.id, event: sealed.type, webhookId: sealed.id, error }, 'customer link abandoned');
          this.#outbox.ack(entry.seq);
          this.#attempt = 0;
          this.#nextAttemptAt = null;
          continue;
        }
        event = opened;
      } else event = entry.data;
      this.#attempt++;
      const started = Date.now();
      const r = await this.#attemptOnce(event, signal);
      // Shutting down mid-attempt: the event stays queued and goes again after the restart.
      if (signal.aborted && !r.ok) break;
      const base = {
        at: new Date().toISOString(),
        endpoint: this.endpoint.id,
        event: event.type,
        webhookId: event.id,
        auditSeq: entry.src,
        attempt: this.#attempt,
        ms: Date.now() - started,
        ...(r.status !== undefined ? { status: r.status } : {}),
      };
      if (r.ok) {
        this.#deps.deliveries.append({ ...base, outcome: 'delivered' });
        this.#outbox.ack(entry.seq);
        this.#attempt = 0;
        this.#nextAttemptAt = null;
        this.#lastError = null;
        continue;
      }
      this.#lastError = r.error;
      if (this.#attempt >= this.#deps.maxAttempts) {
        this.#deps.deliveries.append({ ...base, outcome: 'abandoned', error: r.error });
        this.#deps.log.warn({ endpoint: this.endpoint.id, event: event.type, webhookId: event.id, attempts: this.#attempt, error: r.error }, 'webhook abandoned after its last attempt');
        this.#outbox.ack(entry.seq);
        this.#attempt = 0;
        this.#nextAttemptAt = null;
        continue;
      }
      const delay = backoffDelay(this.#attempt, this.#deps.retry);
      this.#nextAttemptAt = new Date(Date.now() + delay).toISOString();
      this.#deps.deliveries.append({ ...base, outcome: 'failed', error: r.error, nextAttemptAt: this.#nextAttemptAt });
      this.#deps.log.info({ endpoint: this.endpoint.id, event: event.type, attempt: this.#attempt, error: r.error, retryInMs: delay }, 'webhook attempt failed');
      await pause(delay, signal);
    }
  }

  async #attemptOnce(event: WebhookEvent, signal: AbortSignal): Promise<AttemptResult> {
    const url = new URL(this.endpoint.url);
    const https = url.protocol === 'https:';
    const port = Number(url.port || (https ? 443 : 80));
    const decision = await this.#deps.guard.decide(url.hostname, port);
    if (!decision.allowed || !decision.address) return { ok: false, error: `address_refused: ${decision.reason ?? 'refused'}` };
    const address = decision.address;
    const body = webhookBody(event);
    // The timestamp is the attempt's: receivers refuse old ones (replay protection), so a retry is signed afresh.
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'Vitrine-Webhooks/1',
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.#signer.sign(event.id, now, body),
    };
    const lookup: LookupFunction = (_host, opts, cb) => {
      const family = isIP(address);
      if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else cb(null, address, family);
    };
    return new Promise<AttemptResult>((resolve) => {
      const req = (https ? httpsRequest : httpRequest)(
        { method: 'POST', host: url.hostname, port, path: `${url.pathname}${url.search}`, headers, lookup, agent: false, signal, timeout: this.#deps.timeoutMs },
        (res: IncomingMessage) => {
          res.resume();
          const status = res.statusCode ?? 0;
          res.on('end', () => resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `http_${status}` }));
          res.on('error', () => resolve({ ok: false, status, error: 'response_aborted' }));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? 'request_failed' }));
      req.end(body);
    });
  }

  /** Stops at once; what is not yet delivered stays in the outbox for the next start. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#poke();
    await this.#loop;
    this.#outbox.close();
  }
}
