/**
 * Schemas of the integration settings: the webhook endpoints file (VITRINE_WEBHOOKS_FILE) and the
 * shapes config.ts hands to server/integrations. Kept here so that config.ts stays a list of
 * settings; only zod and the event catalogue are imported (no I/O at import time).
 */
import { z } from 'zod';
import { CUSTOMER_LINK_EVENT, WEBHOOK_EVENT_TYPES } from './events.ts';

/** Standard Webhooks symmetric secret: `whsec_` and base64 of at least 24 random bytes. */
const Secret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'expected whsec_ followed by base64')
  .refine((s) => Buffer.from(s.slice(6), 'base64').length >= 24, 'the secret must hold at least 24 bytes (base64 of 32 random bytes is usual)');

const EventFilter = z
  .string()
  // The customer link is a credential: it goes by an explicit per-endpoint opt-in, never by a filter.
  .refine((f) => f !== CUSTOMER_LINK_EVENT, { message: `${CUSTOMER_LINK_EVENT} is not an event filter: set customerLinks: true on the endpoint that delivers customer links` })
  .refine((f) => f === '*' || (WEBHOOK_EVENT_TYPES as readonly string[]).includes(f) || (f.endsWith('.*') && WEBHOOK_EVENT_TYPES.some((t) => t.startsWith(f.slice(0, -1)))), {
    message: `expected *, a prefix such as session.*, or one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  });

export const WebhookEndpointSchema = z
  .object({
    /** Stable name: the endpoint's outbox and delivery log entries are keyed by it. */
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'letters, digits, - and _ (lower case), up to 63'),
    url: z.url({ protocol: /^https?$/ }).refine((u) => !new URL(u).username && !new URL(u).password, 'no credentials in the URL; the signature authenticates Vitrine'),
    secret: Secret.optional(),
    /** A file holding the secret (e.g. a mounted Kubernetes secret), instead of `secret`. */
    secretFile: z.string().min(1).optional(),
    events: z.array(EventFilter).default([]),
    /**
     * This endpoint receives `session.customer_link` (the customer link of sessions started with
     * `delivery: "webhook"`): the company's messaging, which hands it to the customer. Off unless
     * set; `*` never includes it.
     */
    customerLinks: z.boolean().default(false),
    description: z.string().max(200).optional(),
  })
  .strict()
  .refine((e) => (e.secret === undefined) !== (e.secretFile === undefined), 'set exactly one of secret and secretFile')
  .refine((e) => e.events.length > 0 || e.customerLinks, 'an endpoint needs events, customerLinks: true, or both');

export const WebhooksFileSchema = z
  .object({ endpoints: z.array(WebhookEndpointSchema).max(50) })
  .strict()
  .refine((f) => new Set(f.endpoints.map((e) => e.id)).size === f.endpoints.length, 'endpoint ids must be unique');

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly events: readonly string[];
  /** Opted in to `session.customer_link` (link-delivery.ts). */
  readonly customerLinks?: boolean;
}

export interface RetryConfig {
  /** First retry after about this long; each further one doubles, up to maxMs. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface SyslogConfig {
  readonly host: string;
  readonly port: number;
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly facility: number;
  readonly hostname: string;
  readonly appName: string;
  readonly retry: RetryConfig;
}

export interface IntegrationsConfig {
  readonly webhooks: readonly WebhookEndpoint[];
  readonly webhookRetry: RetryConfig;
  readonly webhookMaxAttempts: number;
  readonly webhookTimeoutMs: number;
  readonly syslog: SyslogConfig | null;
  /** host[:port] of integration destinations that may be on private or loopback addresses. */
  readonly allowHosts: readonly string[];
  readonly outboxMaxEntries: number;
}

export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  audit: 13,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
