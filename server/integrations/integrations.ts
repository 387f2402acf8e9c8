/**
 * What leaves Vitrine for the company's other systems, in one place: webhook senders (one per
 * endpoint) and the SIEM stream, all following the audit trail. The trail is the source of
 * truth: each destination's outbox remembers the last audit seq it took in, and on start it is
 * handed every record written after that (a crash between the audit write and the outbox write
 * loses nothing), then follows new records as they are written.
 */
import { join } from 'node:path';
import type { FileAuditSink } from '../audit/audit-file.ts';
import type { ChainedRecord } from '../audit/chain.ts';
import { VitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { UrlGuard, type Resolver } from '../net/url-guard.ts';
import { DeliveryLog, type DeliveryEntry, type DeliveryQuery } from './delivery-log.ts';
import { webhookEventsFor } from './events.ts';
import type { IntegrationsConfig } from './integration-config.ts';
import type { CustomerLink } from './link-delivery.ts';
import { SyslogStreamer, type SyslogStatus } from './syslog.ts';
import { EndpointSender, type EndpointStatus } from './webhooks.ts';

export interface IntegrationsDeps {
  config: IntegrationsConfig;
  dataDir: string;
  audit: Pick<FileAuditSink, 'subscribe' | 'since' | 'head'>;
  log: Logger;
  /** Audit seq where a destination configured for the first time begins (default: the head now). */
  startAt?: number;
  /** DNS for the egress check (tests point names at loopback). */
  resolver?: Resolver;
}

export interface IntegrationsStatus {
  webhooks: EndpointStatus[];
  syslog: SyslogStatus | null;
}

export class Integrations {
  readonly #senders: EndpointSender[];
  readonly #syslog: SyslogStreamer | null;
  readonly #deliveries: DeliveryLog;
  readonly #unsubscribe: () => void;
  #closed: Promise<void> | null = null;

  constructor(deps: IntegrationsDeps) {
    const { config, log } = deps;
    const dir = join(deps.dataDir, 'integrations');
    const guard = new UrlGuard(config.allowHosts, deps.resolver);
    const startAt = deps.startAt ?? deps.audit.head.seq;
    this.#deliveries = new DeliveryLog(join(dir, 'webhook-deliveries.jsonl'));
    this.#senders = config.webhooks.map(
      (endpoint) =>
        new EndpointSender(endpoint, {
          dir: join(dir, 'webhooks'),
          guard,
          retry: config.webhookRetry,
          maxAttempts: config.webhookMaxAttempts,
          timeoutMs: config.webhookTimeoutMs,
          maxEntries: config.outboxMaxEntries,
          startAt,
          log: log.child({ integration: 'webhook', endpoint: endpoint.id }),
          deliveries: this.#deliveries,
        }),
    );
    this.#syslog = config.syslog ? new SyslogStreamer(config.syslog, { dir, guard, maxEntries: config.outboxMaxEntries, startAt, log: log.child({ integration: 'syslog' }) }) : null;
    const take = (rec: ChainedRecord) => {
      const events = this.#senders.length ? webhookEventsFor(rec) : [];
      for (const s of this.#senders) if (rec.seq > s.cursor) s.take(rec, events);
      if (this.#syslog && rec.seq > this.#syslog.cursor) this.#syslog.take(rec);
    };
    // Catch up on what was written while this process (or its outbox writes) did not run.
    const cursors = [...this.#senders.map((s) => s.cursor), ...(this.#syslog ? [this.#syslog.cursor] : [])];
    const from = Math.min(...cursors);
    const missed = deps.audit.since(from);
    if (missed.length) log.info({ records: missed.length, from }, 'integrations: catching up on audit records not yet queued');
    for (const rec of missed) take(rec);
    this.#unsubscribe = deps.audit.subscribe(take);
    log.info({ webhooks: this.#senders.map((s) => s.endpoint.id), syslog: config.syslog ? `${config.syslog.host}:${config.syslog.port}` : null }, 'integrations started');
  }

  /**
   * Starts what the config asks for; null when nothing is configured. The audit sink must be the
   * file trail (its seq and catch-up are what make delivery durable).
   */
  static start(deps: Omit<IntegrationsDeps, 'audit'> & { audit: unknown }): Integrations | null {
    if (!deps.config.webhooks.length && !deps.config.syslog) return null;
    const a = deps.audit as Partial<IntegrationsDeps['audit']>;
    if (typeof a.subscribe !== 'function' || typeof a.since !== 'function' || !a.head) {
      deps.log.error('webhooks and syslog streaming need the file audit trail; an injected audit sink cannot feed them: not started');
      return null;
    }
    return new Integrations({ ...deps, audit: a as IntegrationsDeps['audit'] });
  }

  /** True when some endpoint takes customer links (customerLinks: true): `delivery: "webhook"` can work. */
  get linksAvailable(): boolean {
    return this.#senders.some((s) => s.endpoint.customerLinks);
  }

  /**
   * Hands a customer link to every endpoint that opted in, sealed in each one's durable outbox;
   * resolves once it is on disk there (delivery then retries like any event). Throws
   * DELIVERY_UNAVAILABLE when no endpoint takes links or a queue is full.
   */
  async deliverLink(link: CustomerLink): Promise<{ webhookIds: string[] }> {
    const takers = this.#senders.filter((s) => s.endpoint.customerLinks);
    if (!takers.length) throw new VitrineError('DELIVERY_UNAVAILABLE');
    return { webhookIds: takers.map((s) => s.queueLink(link).webhookId) };
  }

  deliveries(q: DeliveryQuery): DeliveryEntry[] {
    return this.#deliveries.query(q);
  }

  status(): IntegrationsStatus {
    return { webhooks: this.#senders.map((s) => s.status()), syslog: this.#syslog?.status() ?? null };
  }

  /** Stops following the trail and closes every destination; what is undelivered stays queued on disk. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#unsubscribe();
      await Promise.all([...this.#senders.map((s) => s.close()), this.#syslog?.close()]);
    })();
    return this.#closed;
  }
}
