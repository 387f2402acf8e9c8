/**
 * The HTTP surface: the REST API for sessions, health, and the static web client. Request
 * bodies are validated with a schema; every error answers with the coded error shape
 * {"error":{"code","message"}}.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { AuditSink } from '../audit/audit.ts';
import { failedAttempt, type Limiter } from '../auth/failure-limiter.ts';
import type { ClusterView } from '../cluster/membership.ts';
import type { SessionRouter } from '../routing/session-router.ts';
import { forwardOf, listForwardOf, sendForwarded } from './forwarding.ts';
import { clientAddress, isForwarded } from '../net/client-address.ts';
import { CreateSessionBodySchema } from '../contract/rest.ts';
import { openApiJson } from './openapi.ts';
import { STAFF_ROLES, type IdentityVerifier, type StaffIdentity, type StaffRole } from '../auth/identity.ts';
import { mayEnd, STAFF_PERMISSIONS, type StaffAction } from '../auth/staff-permissions.ts';
import { VitrineError, hasCode, isVitrineError, toWire } from '../errors.ts';
import type { Logger } from '../log.ts';
import { StaffMeSchema, type Viewport } from '../protocol.ts';
import type { Metrics } from '../metrics.ts';
import type { RecordingStore } from '../recording/store.ts';
import type { SessionRegistry } from '../session/registry.ts';
import type { Session } from '../session/session.ts';
import type { Integrations } from '../integrations/integrations.ts';
import { mountWebhookRoutes } from './webhook-routes.ts';
import { encodeReplayStream } from '../contract/replay-stream.ts';
import { mountFileRoutes } from '../files/routes.ts';
import type { FileHandoffs } from '../files/handoff.ts';
import { mountLeakScanRoutes, type LeakScanner } from '../recording/leak-scan.ts';
import { answerCreated, checkDelivery, mountCustomerStart, webhookLinkDelivery, type CustomerLinkDelivery } from './customer-start-routes.ts';

export const CLIENT_DIST = join(import.meta.dirname, '..', '..', 'client', 'dist');

/** Bound on a recording fetched from another node for replay (held in memory while relayed). */
const MAX_RECORDING_ANSWER_BYTES = 512 * 1024 * 1024;

// The contract's schema (server/contract/rest.ts): the OpenAPI document shows this very one.
const CreateSessionBody = CreateSessionBodySchema;

export interface AppDeps {
  registry: SessionRegistry;
  /** Every session's document handoff on this node (the file routes find them here). */
  files: Pick<FileHandoffs, 'get'>;
  identity: IdentityVerifier;
  audit: AuditSink;
  failures: Limiter;
  /** Session creations per agent (sliding minute). */
  creations: Limiter;
  log: Logger;
  info: () => { devMode: boolean; demoUrl: string | null; company: string; logo?: string; accent?: string; viewport: Viewport };
  ready: () => { ready: boolean; reason?: string; capacity: { total: number; used: number; free: number }; sandbox: 'on' | 'off'; sandboxMode: 'user' | 'self' | 'off' };
  retryAfterSeconds: number;
  metrics: Metrics;
  recordings: RecordingStore | null;
  /** The OCR leak scan of recordings (recording/leak-scan.ts); its result rides along in the list. */
  leakScan?: LeakScanner | null;
  /** Extra figures for load balancers: free capacity and CPU/memory headroom. */
  pressure: () => Record<string, number>;
  trustProxy: boolean | number | string;
  frameAncestors: readonly string[];
  /** True when this server terminates TLS itself. */
  tls: boolean;
  /** Webhooks and SIEM streaming (its delivery log is served by webhook-routes.ts). */
  integrations?: () => Integrations | null;
  /** Where `delivery: "webhook"` sends customer links (customer-start-routes.ts); unset: refused. */
  linkDelivery?: CustomerLinkDelivery;
  /** Where sessions are created and found: this node, or the cluster (server/routing/). */
  router: SessionRouter;
  /** Cluster mode: the cluster as GET /api/cluster shows it (a single node answers its capacity). */
  clusterView?: () => Promise<ClusterView>;
  /** Staff single sign-on (/auth/*, sso-routes.ts), when VITRINE_OIDC_ISSUER is set. */
  sso?: express.Router;
  /** A session's signed evidence pack (server/audit/evidence-export.ts); unset without the file trail. */
  evidence?: (session: string, by: { sub: string; role: string }) => string;
}

export function createApp(deps: AppDeps): express.Express {
  if (!existsSync(join(CLIENT_DIST, 'customer.html'))) {
    throw new Error(`the web client is not built (${CLIENT_DIST} is missing): run \`npm run build\` first`);
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          // A configured https: logo (VITRINE_BRAND_LOGO_URL) may load from its own origin.
          imgSrc: ["'self'", 'blob:', 'data:', ...logoOrigin(deps.info().logo)],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
          frameAncestors: [...deps.frameAncestors],
        },
      },
      crossOriginEmbedderPolicy: false,
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: false,
    }),
  );
  app.use((req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    // HSTS only over HTTPS: natively, or through a trusted proxy that saw HTTPS.
    if (deps.tls || req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const r = deps.ready();
    // `sandbox: "off"` tells whoever watches readiness that browsers run unconfined (VITRINE_UNSAFE_NO_SANDBOX);
    // `sandboxMode` whether they run as another user than the server ("user") or as its own ("self").
    res
      .status(r.ready ? 200 : 503)
      .json({ status: r.ready ? 'ready' : 'not ready', ...(r.reason ? { reason: r.reason } : {}), capacity: r.capacity, pressure: deps.pressure(), sandbox: r.sandbox, sandboxMode: r.sandboxMode });
  });
  app.get('/metrics', async (_req, res) => {
    const m = await deps.metrics.render();
    res.type(m.contentType).send(m.body);
  });
  app.get('/api/info', (_req, res) => {
    res.json(deps.info());
  });
  // The REST contract (server/http/openapi.ts), public like the code that serves it.
  app.get('/api/openapi.json', (_req, res) => {
    res.type('application/json').send(openApiJson());
  });

  /**
   * Verifies the bearer token for an action; bad tokens are audited and rate-limited per address.
   * The token is checked first: a valid one is never refused for other people's failures behind
   * the same address (failure-limiter.ts); only failing attempts are slowed and refused.
   */
  const staff = async (req: Request, action: StaffAction): Promise<StaffIdentity & { role: StaffRole }> => {
    const addr = clientAddress(req);
    const allowed = STAFF_PERMISSIONS[action];
    let firstError: unknown;
    for (const role of allowed) {
      try {
        return { ...(await deps.identity.verify(bearer(req), role)), role };
      } catch (e) {
        firstError ??= e;
        if (hasCode(e, 'UNAUTHENTICATED')) break;
      }
    }
    const err = isVitrineError(firstError) ? firstError : new VitrineError('UNAUTHENTICATED');
    // Past the limit a flood is neither audited one by one (bounded trail) nor told why it failed.
    if (err.code === 'UNAUTHENTICATED' && (await failedAttempt(deps.failures, addr))) {
      throw new VitrineError('RATE_LIMITED', 'too many failed authentications from this address; wait a minute');
    }
    deps.audit.record({ type: 'token.refused', details: { code: err.code, reason: err.message, action } });
    throw err;
  };

  /**
   * Who the bearer token belongs to, verified exactly as every other call verifies it, so that a
   * console can refuse a bad token at sign-in instead of at the first action.
   */
  app.get('/api/me', async (req, res, next) => {
    try {
      const who = await staff(req, 'identity.read');
      const roles = STAFF_ROLES.filter((r) => who.roles.includes(r));
      const expiresAt = new Date(who.expiresAt ?? Date.now()).toISOString();
      res.json(StaffMeSchema.parse({ sub: who.sub, name: who.name, role: roles[0] ?? who.role, roles: roles.length ? roles : [who.role], expiresAt }));
    } catch (e) {
      next(e);
    }
  });

  if (deps.sso) app.use('/auth', deps.sso);

  const { creations } = deps;
  // delivery: "webhook" goes to the embedder's channel if it gave one, else to the signed webhooks.
  const linkDelivery = deps.linkDelivery ?? webhookLinkDelivery(deps.integrations ?? (() => null));
  const json = express.json({ limit: '16kb', type: () => true });
  app.post('/api/sessions', json, async (req, res, next) => {
    try {
      const agent = await staff(req, 'session.create');
      // A runaway script or a stolen token must not be able to exhaust the pool.
      if (await creations.blocked(agent.sub)) throw new VitrineError('RATE_LIMITED', 'too many sessions started by this agent; wait a minute');
      await creations.fail(agent.sub);
      const body = CreateSessionBody.safeParse(req.body);
      if (!body.success) {
        const issue = body.error.issues[0];
        throw new VitrineError('BAD_REQUEST', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
      }
      checkDelivery(body.data, linkDelivery);
      const created = await deps.router.create(agent, body.data.url, body.data.policy);
      res.status(201).json(await answerCreated(created, body.data, { hook: linkDelivery, agent, audit: deps.audit, end: (id) => deps.registry.end(id, 'deleted') }));
    } catch (e) {
      next(e);
    }
  });
  /**
   * A request about a session another node owns is answered by that node (after this node has
   * checked the caller's credentials once too). Forwarded requests stop here.
   */
  const answeredElsewhere = async (req: Request, res: Response, includeEnded = false): Promise<boolean> => {
    const id = String(req.params.id);
    if (deps.registry.get(id) || isForwarded(req)) return false;
    const node = await deps.router.locate(id, includeEnded);
    if (!node) return false;
    sendForwarded(res, await deps.router.forward(node, forwardOf(req)));
    return true;
  };

  app.delete('/api/sessions/:id', async (req, res, next) => {
    try {
      const who = await staff(req, 'session.delete');
      const id = String(req.params.id);
      const session = deps.registry.get(id);
      // Another node's session: the end request goes to its owner, answered once it ended.
      if (!session && !isForwarded(req) && (await deps.router.endElsewhere(id, who))) {
        res.status(204).end();
        return;
      }
      if (!session) throw new VitrineError('NO_SUCH_SESSION');
      if (!mayEnd(who, session.createdBy.sub)) throw new VitrineError('FORBIDDEN', 'only the agent who started the session, or a supervisor, may end it');
      await session.end('deleted');
      res.status(204).end();
    } catch (e) {
      next(e);
    }
  });

  app.post('/api/sessions/:id/observers', async (req, res, next) => {
    try {
      const supervisor = await staff(req, 'session.observe');
      if (await answeredElsewhere(req, res)) return;
      const id = String(req.params.id);
      const { token } = await deps.registry.observe(id, supervisor);
      res.status(201).json({ id, token });
    } catch (e) {
      next(e);
    }
  });
  app.post('/api/sessions/:id/rejoin', async (req, res, next) => {
    try {
      const agent = await staff(req, 'session.rejoin');
      if (await answeredElsewhere(req, res)) return;
      const id = String(req.params.id);
      const { token } = await deps.registry.rejoin(id, agent);
      deps.audit.record({ type: 'session.rejoined', session: id, actor: { sub: agent.sub, role: 'agent' } });
      res.status(201).json({ id, agentToken: token });
    } catch (e) {
      next(e);
    }
  });
  /** One session as GET /api/sessions lists it (SessionSummary in server/contract/rest.ts). */
  const summarize = (s: Session): Record<string, unknown> => ({
    id: s.id,
    state: s.state,
    createdAt: new Date(s.createdAt).toISOString(),
    expiresAt: new Date(s.inviteExpiresAt).toISOString(),
    agent: s.createdBy.name,
    participants: s.participants.map((p) => p.info),
    policy: s.policy,
    ...(deps.router.node ? { node: deps.router.node } : {}),
  });
  // An agent sees the sessions it started ("my sessions"); a supervisor sees every one.
  const visibleTo = (who: { sub: string; role: string }) => (s: { createdBy: { sub: string } }) => who.role !== 'agent' || s.createdBy.sub === who.sub;
  app.get('/api/sessions/:id', async (req, res, next) => {
    try {
      const who = await staff(req, 'session.list');
      if (await answeredElsewhere(req, res)) return;
      const s = deps.registry.get(String(req.params.id));
      // Another agent's session is answered like no session: its existence is not this agent's to learn.
      if (!s || !visibleTo(who)(s)) throw new VitrineError('NO_SUCH_SESSION');
      res.json(summarize(s));
    } catch (e) {
      next(e);
    }
  });
  app.get('/api/sessions', async (req, res, next) => {
    try {
      const who = await staff(req, 'session.list');
      const sessions: Record<string, unknown>[] = deps.registry.list().filter(visibleTo(who)).map(summarize);
      if (isForwarded(req)) {
        res.json({ sessions });
        return;
      }
      const remote = await deps.router.listElsewhere('sessions', listForwardOf(req));
      res.json({ sessions: [...sessions, ...remote.items], ...(remote.unreachable.length ? { unreachableNodes: remote.unreachable } : {}) });
    } catch (e) {
      next(e);
    }
  });

  app.get('/api/sessions/:id/audit', async (req, res, next) => {
    try {
      const auditor = await staff(req, 'audit.read');
      // Each node keeps its own audit chain: the owner's holds the session's records.
      if (await answeredElsewhere(req, res, true)) return;
      const id = String(req.params.id);
      const records = deps.audit.forSession(id);
      deps.audit.record({ type: 'audit.accessed', session: id, actor: { sub: auditor.sub, role: 'auditor' }, details: { records: records.length } });
      res.json({ session: id, records });
    } catch (e) {
      next(e);
    }
  });

  app.get('/api/sessions/:id/evidence', async (req, res, next) => {
    try {
      const auditor = await staff(req, 'audit.read');
      if (await answeredElsewhere(req, res, true)) return;
      if (!deps.evidence) throw new VitrineError('NO_SUCH_SESSION', 'evidence packs need the file audit trail');
      const id = String(req.params.id);
      const actor = { sub: auditor.sub, role: 'auditor' };
      const pack = deps.evidence(id, actor);
      deps.audit.record({ type: 'evidence.exported', session: id, actor, details: { bytes: pack.length } });
      res.type('application/json').setHeader('content-disposition', `attachment; filename="evidence-${id}.json"`);
      res.send(pack);
    } catch (e) {
      next(e);
    }
  });

  app.get('/api/cluster', async (req, res, next) => {
    try {
      await staff(req, 'cluster.read');
      if (!deps.clusterView) {
        res.json({ mode: 'single', capacity: deps.ready().capacity });
        return;
      }
      res.json({ mode: 'cluster', ...(await deps.clusterView()) });
    } catch (e) {
      next(e);
    }
  });

  const store = (): RecordingStore => {
    if (!deps.recordings) throw new VitrineError('NO_SUCH_RECORDING', 'recordings are not enabled on this server');
    return deps.recordings;
  };
  /** A recording this node does not hold is asked of the other nodes (the holder audits it). */
  const recordingElsewhere = async (req: Request, res: Response, id: string): Promise<boolean> => {
    if (isForwarded(req) || deps.recordings?.list().some((r) => r.id === id)) return false;
    const answer = await deps.router.forwardToAny(forwardOf(req, { maxBytes: MAX_RECORDING_ANSWER_BYTES }));
    if (!answer) return false;
    sendForwarded(res, answer);
    return true;
  };

  app.get('/api/recordings', async (req, res, next) => {
    try {
      const auditor = await staff(req, 'recording.read');
      const node = deps.router.node ? { node: deps.router.node } : {};
      const list: Record<string, unknown>[] = (deps.recordings?.list() ?? []).map((r) => ({ ...r, ...node, ...(deps.leakScan?.brief(r.id) ? { leakScan: deps.leakScan.brief(r.id) } : {}) }));
      deps.audit.record({ type: 'recording.accessed', actor: { sub: auditor.sub, role: 'auditor' }, details: { action: 'list', count: list.length } });
      // Each node keeps the recordings it made; the list covers every node.
      if (isForwarded(req)) {
        res.json({ recordings: list });
        return;
      }
      const remote = await deps.router.listElsewhere('recordings', listForwardOf(req));
      res.json({ recordings: [...list, ...remote.items], ...(remote.unreachable.length ? { unreachableNodes: remote.unreachable } : {}) });
    } catch (e) {
      next(e);
    }
  });
  // Streams the decrypted entries, already masked, to the authenticated auditor only:
  // per entry u8 kind (1 frame, 2 event) | f64 t ms | u32 length | bytes.
  app.get('/api/recordings/:id', async (req, res, next) => {
    try {
      const auditor = await staff(req, 'recording.read');
      const id = String(req.params.id);
      if (await recordingElsewhere(req, res, id)) return;
      let result;
      try {
        // NO_SUCH_RECORDING or RECORDING_TAMPERED, coded by the store; the access is audited either way.
        result = store().read(id);
      } finally {
        deps.audit.record({ type: 'recording.accessed', session: undefined, actor: { sub: auditor.sub, role: 'auditor' }, details: { action: 'replay', recording: id } });
      }
      res.setHeader('X-Recording-Complete', String(result.complete));
      res.setHeader('X-Recording-Session', result.header.session);
      res.type('application/octet-stream').send(Buffer.from(encodeReplayStream(result.entries)));
    } catch (e) {
      next(e);
    }
  });
  app.delete('/api/recordings/:id', async (req, res, next) => {
    try {
      const auditor = await staff(req, 'recording.delete');
      const id = String(req.params.id);
      if (await recordingElsewhere(req, res, id)) return;
      let deleted = false;
      try {
        deleted = store().delete(id);
      } catch {
        deleted = false;
      }
      if (!deleted) throw new VitrineError('NO_SUCH_RECORDING');
      deps.audit.record({ type: 'recording.deleted', actor: { sub: auditor.sub, role: 'auditor' }, details: { recording: id, reason: 'erasure request' } });
      res.status(204).end();
    } catch (e) {
      next(e);
    }
  });

  mountCustomerStart(app, { registry: deps.registry, audit: deps.audit, log: deps.log, staff, json, clientDist: CLIENT_DIST, router: deps.router });
  mountLeakScanRoutes(app, { scanner: () => deps.leakScan ?? null, store: () => deps.recordings, staff, audit: deps.audit });
  mountWebhookRoutes(app, { integrations: deps.integrations ?? (() => null), staff, audit: deps.audit });
  // Uploads and downloads of a session another node runs are streamed to it (files/routes.ts).
  mountFileRoutes(app, deps.files, {
    owner: (id) => deps.router.locate(id),
    stream: (req, res, node) => deps.router.stream(node, forwardOf(req, { headers: ['authorization', 'accept', 'content-type', 'content-length', 'x-file-name', 'transfer-encoding'] }), req, res),
    forwarded: isForwarded,
  });
  const clientFile = (name: string) => (_req: Request, res: Response) => res.sendFile(join(CLIENT_DIST, name));
  app.get('/', clientFile('index.html'));
  app.get('/agent', clientFile('agent.html'));
  app.get('/replay', clientFile('replay.html'));
  // The customer's page calls this when a session ends: the browser drops what it kept.
  app.post('/session-ended', (_req, res) => {
    res.setHeader('Clear-Site-Data', '"cache", "storage"');
    res.status(204).end();
  });
  app.get('/s/:id', clientFile('customer.html'));
  app.use('/assets', express.static(join(CLIENT_DIST, 'assets'), { index: false, fallthrough: true }));

  app.use((_req, _res, next) => next(new VitrineError('NOT_FOUND')));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toWire(err);
    deps.metrics.refusals.inc({ code: body.error.code });
    if (body.error.code === 'INTERNAL') deps.log.error({ err: String((err as Error)?.stack ?? err) }, 'request failed');
    if (status === 503) res.setHeader('Retry-After', String(deps.retryAfterSeconds));
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(status).json(body);
  });
  return app;
}

function logoOrigin(logo: string | undefined): string[] {
  if (!logo?.startsWith('https://')) return [];
  try {
    return [new URL(logo).origin];
  } catch {
    return [];
  }
}

function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}
