/**
 * The webhook delivery log: one JSON line per attempt (who, which event, which try, what came
 * back, how long it took), for operators and auditors (GET /api/webhooks/deliveries). It holds
 * ids, statuses and error codes only, never payloads, secrets or signatures. Rotated at a size
 * limit (one older file kept), so it stays bounded.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export const DeliveryOutcomes = ['delivered', 'failed', 'abandoned', 'dropped'] as const;

export interface DeliveryEntry {
  at: string;
  endpoint: string;
  event: string;
  webhookId: string;
  /** The audit record the event came from. */
  auditSeq: number;
  attempt: number;
  outcome: (typeof DeliveryOutcomes)[number];
  /** The endpoint's HTTP status, when it answered. */
  status?: number;
  /** Why the attempt failed, as a short code (ECONNREFUSED, timeout, address_refused, http_503). */
  error?: string;
  ms: number;
  /** After a failure: when the next attempt is due. */
  nextAttemptAt?: string;
}

export const DeliveryQuerySchema = z
  .object({
    endpoint: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
      .optional(),
    event: z.string().max(64).optional(),
    outcome: z.enum(DeliveryOutcomes).optional(),
    webhookId: z
      .string()
      .regex(/^msg_[a-f0-9]{32}$/)
      .optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
export type DeliveryQuery = z.infer<typeof DeliveryQuerySchema>;

export class DeliveryLog {
  readonly #file: string;
  readonly #maxBytes: number;
  #bytes: number;

  constructor(file: string, maxBytes = 8 * 1024 * 1024) {
    this.#file = file;
    this.#maxBytes = maxBytes;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.#bytes = existsSync(file) ? statSync(file).size : 0;
  }

  append(entry: DeliveryEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    if (this.#bytes + line.length > this.#maxBytes) {
      renameSync(this.#file, `${this.#file}.1`);
      this.#bytes = 0;
    }
    appendFileSync(this.#file, line, { mode: 0o600 });
    this.#bytes += line.length;
  }

  /** The newest matching entries, newest first. */
  query(q: DeliveryQuery): DeliveryEntry[] {
    const out: DeliveryEntry[] = [];
    for (const f of [this.#file, `${this.#file}.1`]) {
      if (!existsSync(f)) continue;
      const lines = readFileSync(f, 'utf8').split('\n');
      for (let i = lines.length - 1; i >= 0 && out.length < q.limit; i--) {
        if (!lines[i]) continue;
        const e = JSON.parse(lines[i]!) as DeliveryEntry;
        if (q.endpoint && e.endpoint !== q.endpoint) continue;
        if (q.event && e.event !== q.event) continue;
        if (q.outcome && e.outcome !== q.outcome) continue;
        if (q.webhookId && e.webhookId !== q.webhookId) continue;
        out.push(e);
      }
    }
    return out;
  }
}
