/**
 * Customer-started sessions and the delivery of customer links past the agent.
 *
 * - GET /embed.js: the button script the company's site embeds (client/src/embed.ts).
 * - POST /api/customer-sessions: from the customer's browser on an allow-listed origin
 *   (VITRINE_EMBED_ORIGINS, CORS for exactly those, and the Origin header checked here too): a
 *   session on the page they are on, or on the origin's configured start URL; the answer (the
 *   customer link with its invite, and the join code) goes to that browser only.
 * - POST /api/join-codes/claim: an agent's bearer token and the code the customer read out give
 *   a participant token for that session. No staff member ever holds the customer's credential.
 * - Agent-started sessions with `delivery: "webhook"`: the customer link goes to a
 *   CustomerLinkDelivery (the company's messaging) and never back to the agent.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import express, { type Request, type Response } from 'express';
import type { AuditSink } from '../audit/audit.ts';
import { FailureLimiter } from '../auth/failure-limiter.ts';
import type { StaffIdentity, StaffRole } from '../auth/identity.ts';
import type { StaffAction } from '../auth/staff-permissions.ts';
import type { SessionRouter } from '../routing/session-router.ts';
import { forwardOf, sendForwarded } from './forwarding.ts';
import { hasCode, VitrineError } from '../errors.ts';
import type { Integrations } from '../integrations/integrations.ts';
import type { Logger } from '../log.ts';
import { CustomerSessionRequestSchema, JoinCodeClaimSchema, type CustomerSessionStarted, type JoinCodeClaimed } from '../protocol.ts';
import { codeLabel, JoinCodes } from '../session/join-codes.ts';
import { UNCLAIMED, type CreatedSession, type SessionRegistry } from '../session/registry.ts';
import { clientAddress, isForwarded } from '../net/client-address.ts';

/**
 * Hands a customer link to the customer through the company's own channel (SMS, app message,
 * e-mail), so that the agent who started the session never holds it. The server's own is the
 * signed webhook event `session.customer_link` (server/integrations/link-delivery.ts: only to
 * endpoints with `customerLinks: true`, sealed in the outbox, retried like every event); an
 * embedding application may pass another (VitrineOptions.linkDelivery). With neither,
 * `delivery: "webhook"` is refused (DELIVERY_UNAVAILABLE) before any session is created.
 */
export interface CustomerLinkDelivery {
  /** False when the channel cannot take links now (no endpoint opted in); absent: always can. */
  available?(): boolean;
  /** Resolves once the channel accepted the link (durably queued); a rejection ends the session. */
  deliver(link: { session: string; customerRef: string; customerUrl: string; expiresAt: string; agent: { sub: string; name: string } }): Promise<void>;
}

/** The signed webhooks as the delivery channel: available once an endpoint with customerLinks: true runs. */
export function webhookLinkDelivery(integrations: () => Integrations | null): CustomerLinkDelivery {
  return {
    available: () => integrations()?.linksAvailable ?? false,
    async deliver(link) {
      const i = integrations();
      if (!i) throw new VitrineError('DELIVERY_UNAVAILABLE');
      await i.deliverLink(link);
    },
  };
}

/** Checked before a session is created, so that a refused delivery leaves nothing behind. */
export function checkDelivery(body: { delivery?: 'link' | 'webhook' | undefined; customerRef?: string | undefined }, hook: CustomerLinkDelivery | undefined): void {
  if (body.delivery !== 'webhook') {
    if (body.customerRef !== undefined) throw new VitrineError('BAD_REQUEST', 'customerRef: only with delivery "webhook"');
    return;
  }
  if (!body.customerRef) throw new VitrineError('BAD_REQUEST', 'customerRef: required with delivery "webhook"');
  if (!hook || hook.available?.() === false) throw new VitrineError('DELIVERY_UNAVAILABLE', 'no customer link delivery is configured: a webhook endpoint needs customerLinks: true');
}

/**
 * The answer to POST /api/sessions: as it was for delivery "link"; for "webhook" the link and the
 * customer's token go to the hook and the agent gets only its own token.
 */
export async function answerCreated(
  created: CreatedSession,
  body: { delivery?: 'link' | 'webhook' | undefined; customerRef?: string | undefined },
  ctx: { hook: CustomerLinkDelivery | undefined; agent: StaffIdentity; audit: AuditSink; end: (id: string) => Promise<unknown> },
): Promise<Record<string, unknown>> {
  if (body.delivery !== 'webhook') return { ...created };
  try {
    await ctx.hook!.deliver({
      session: created.id,
      customerRef: body.customerRef!,
      customerUrl: created.customerUrl,
      expiresAt: created.expiresAt,
      agent: { sub: ctx.agent.sub, name: ctx.agent.name },
    });
  } catch (e) {
    // An undelivered link is a session nobody can consent to: it ends now, not at its expiry.
    await ctx.end(created.id);
    throw new VitrineError('DELIVERY_UNAVAILABLE', `the customer link could not be delivered: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  ctx.audit.record({ type: 'customer_link.delivered', session: created.id, actor: { sub: ctx.agent.sub, role: 'agent' }, details: { via: 'webhook' } });
  return { id: created.id, agentToken: created.agentToken, expiresAt: created.expiresAt, delivery: 'webhook' };
}

export interface CustomerStartDeps {
  registry: SessionRegistry;
  audit: AuditSink;
  log: Logger;
  /** app.ts's staff check (bearer token, roles, failure limiting). */
  staff: (req: Request, action: StaffAction) => Promise<StaffIdentity & { role: StaffRole }>;
  json: express.RequestHandler;
  clientDist: string;
  /** Sessions waiting for an agent at once (each holds a browser page); default 50. */
  maxUnclaimed?: number;
  /** Cluster mode shares the codes (claimable through any node) and counts guesses cluster-wide. */
  router: SessionRouter;
}

/** Session starts per customer address per minute: a script cannot drain the pool from one place. */
const STARTS_PER_ADDRESS_PER_MINUTE = 5;

export function mountCustomerStart(app: express.Express, deps: CustomerStartDeps): { codes: JoinCodes; close(): void } {
  const { registry, audit, log } = deps;
  const embed = registry.config.embed;
  const allowed = new Set(embed.origins);
  const starts = new FailureLimiter({ max: STARTS_PER_ADDRESS_PER_MINUTE, windowMs: 60_000 });
  const { router } = deps;
  const local = JoinCodes.localLimiters(embed.codeTtlMs);
  const shared = router.joinCodes();
  const codes = new JoinCodes({
    ttlMs: embed.codeTtlMs,
    ...(shared ? { shared } : {}),
    limiters: {
      perAgent: router.limiter('join-wrong-agent', local.perAgent),
      perAddress: router.limiter('join-wrong-address', local.perAddress),
      global: router.limiter('join-wrong-global', local.global),
    },
    onDead(sessionId, why) {
      audit.record({ type: 'join_code.ended', session: sessionId, details: { reason: why } });
      // A customer-started session without an agent has nothing to wait for once its code is gone.
      void registry.end(sessionId, 'expired');
    },
  });
  registry.onChange((event, s) => {
    if (event === 'ended') codes.revoke(s.id);
  });

  /** The request's Origin when it is allow-listed; anything else is refused here, not only by CORS. */
  const originOf = (req: Request): string => {
    const origin = req.headers.origin;
    if (!origin || !allowed.has(origin)) throw new VitrineError('ORIGIN_REFUSED');
    return origin;
  };
  const cors = (res: Response, origin: string) => {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
  };

  app.get('/embed.js', (_req, res, next) => {
    if (allowed.size === 0) return next(new VitrineError('NOT_FOUND'));
    // Loaded by <script src> from the company's pages: a cross-origin, no-cors read.
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('text/javascript').sendFile(join(deps.clientDist, 'assets', 'embed.js'));
  });

  app.options('/api/customer-sessions', (req, res, next) => {
    try {
      const origin = originOf(req);
      cors(res, origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', 'content-type');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
    } catch (e) {
      next(e);
    }
  });

  app.post('/api/customer-sessions', deps.json, async (req, res, next) => {
    try {
      const origin = originOf(req);
      cors(res, origin);
      const addr = clientAddress(req);
      if (starts.blocked(addr)) throw new VitrineError('RATE_LIMITED', 'too many sessions started from this address; wait a minute');
      starts.fail(addr);
      const body = CustomerSessionRequestSchema.safeParse(req.body);
      if (!body.success) throw new VitrineError('BAD_REQUEST', `${body.error.issues[0]?.path.join('.') || 'body'}: ${body.error.issues[0]?.message ?? 'invalid'}`);
      const unclaimed = registry.list().filter((s) => s.createdBy.sub.startsWith(UNCLAIMED)).length;
      if (unclaimed >= (deps.maxUnclaimed ?? 50)) throw new VitrineError('POOL_FULL', 'too many customers are waiting for an agent; retry later');
      // The page must be on the site that asks (another site's page is not theirs to share),
      // unless the operator fixed a start URL for this site. Then the guard and the policy decide.
      const url = embed.startUrls[origin] ?? body.data.url;
      if (!embed.startUrls[origin]) {
        let pageOrigin: string | null = null;
        try {
          pageOrigin = new URL(url).origin;
        } catch {
          throw new VitrineError('BAD_URL');
        }
        if (pageOrigin !== origin) throw new VitrineError('URL_REFUSED', 'the page must be on the site that starts the session');
      }
      // Nobody's yet: the claiming agent's sub and name replace these (registry.claim).
      const placeholder = { sub: `${UNCLAIMED}${randomBytes(9).toString('base64url')}`, name: '', roles: [] };
      const created = await registry.create(placeholder, url, embed.policy);
      let issued: { code: string; expiresAt: number };
      try {
        issued = await codes.issue(created.id);
      } catch (e) {
        await registry.end(created.id, 'expired');
        throw e;
      }
      const codeExpiresAt = new Date(issued.expiresAt).toISOString();
      audit.record({
        type: 'session.customer_started',
        session: created.id,
        actor: { sub: placeholder.sub, role: 'customer' },
        details: { origin, host: new URL(url).host, code: codeLabel(issued.code) },
      });
      log.info({ session: created.id, origin, code: codeLabel(issued.code) }, 'customer started a session');
      // The created agent token belongs to the placeholder and goes nowhere; an agent gets its own at claim.
      const answer: CustomerSessionStarted = {
        id: created.id,
        customerUrl: `${created.customerUrl}&join=${issued.code}&until=${issued.expiresAt}`,
        code: issued.code,
        codeExpiresAt,
      };
      res.status(201).json(answer);
    } catch (e) {
      next(e);
    }
  });

  app.post('/api/join-codes/claim', deps.json, async (req, res, next) => {
    try {
      const agent = await deps.staff(req, 'session.create');
      const body = JoinCodeClaimSchema.safeParse(req.body);
      if (!body.success) throw new VitrineError('BAD_REQUEST', `${body.error.issues[0]?.path.join('.') || 'body'}: ${body.error.issues[0]?.message ?? 'invalid'}`);
      let sessionId: string;
      try {
        const claimed = await codes.claim(body.data.code, { sub: agent.sub, address: clientAddress(req), forwarded: isForwarded(req) });
        if ('forwardTo' in claimed) {
          // The code's session runs on another node: that node spends the code and answers.
          sendForwarded(res, await router.forward(claimed.forwardTo, forwardOf(req, { body: true })));
          return;
        }
        ({ sessionId } = claimed);
      } catch (e) {
        // Wrong codes are audited (who guessed, never the guess); a flood past the limits is not, one by one.
        if (hasCode(e, 'BAD_JOIN_CODE')) audit.record({ type: 'join_code.refused', actor: { sub: agent.sub, role: 'agent' } });
        throw e;
      }
      const { token } = await registry.claim(sessionId, agent);
      const s = registry.get(sessionId)!;
      audit.record({ type: 'join_code.claimed', session: sessionId, actor: { sub: agent.sub, role: 'agent' } });
      const answer: JoinCodeClaimed = { id: sessionId, agentToken: token, expiresAt: new Date(s.createdAt + s.maxDurationMs).toISOString() };
      res.status(201).json(answer);
    } catch (e) {
      next(e);
    }
  });

  return { codes, close: () => codes.close() };
}
