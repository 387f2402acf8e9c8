/**
 * The integrations' delivery log over HTTP, for supervisors and auditors (the same readers as
 * the cluster view): GET /api/webhooks/deliveries?endpoint=&event=&outcome=&webhookId=&limit=
 * answers the newest attempts first, with each destination's queue (pending, next attempt, last
 * error). Entries hold ids, statuses and error codes, never payloads or secrets. Reading it is
 * audited like any other look at the trail.
 */
import type { Express, Request } from 'express';
import type { AuditSink } from '../audit/audit.ts';
import { VitrineError } from '../errors.ts';
import { DeliveryQuerySchema } from '../integrations/delivery-log.ts';
import type { Integrations } from '../integrations/integrations.ts';

export interface WebhookRouteDeps {
  integrations: () => Integrations | null;
  /** app.ts's staff check (bearer token, rate limit on failures, audited refusals). */
  staff: (req: Request, action: 'cluster.read') => Promise<{ sub: string; role: string }>;
  audit: AuditSink;
}

export function mountWebhookRoutes(app: Express, deps: WebhookRouteDeps): void {
  app.get('/api/webhooks/deliveries', async (req, res, next) => {
    try {
      const who = await deps.staff(req, 'cluster.read');
      const q = DeliveryQuerySchema.safeParse(req.query);
      if (!q.success) {
        const issue = q.error.issues[0];
        throw new VitrineError('BAD_REQUEST', `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
      }
      const integrations = deps.integrations();
      const deliveries = integrations?.deliveries(q.data) ?? [];
      deps.audit.record({ type: 'audit.accessed', actor: { sub: who.sub, role: who.role }, details: { log: 'webhook-deliveries', records: deliveries.length } });
      res.json({ deliveries, status: integrations?.status() ?? null });
    } catch (e) {
      next(e);
    }
  });
}
