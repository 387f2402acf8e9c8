/**
 * Assembles a Vitrine server from a validated config: browser pool, sessions, HTTP API, web
 * client and WebSocket gateway. `close()` ends every session the normal way, then closes the
 * browsers and the listener. Tests and main.ts both start servers through here.
 */
import { CpuSampler } from './browser/cpu-load.ts';
import { FileHandoffs } from './files/handoff.ts';
import type { AdaptiveOptions } from './browser/adaptive-quality.ts';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AuditSink } from './audit/audit.ts';
import { FileAuditSink } from './audit/audit-file.ts';
import { CheckpointWriter } from './audit/checkpoints.ts';
import { exportEvidence } from './audit/evidence-export.ts';
import { FailureLimiter, type Limiter } from './auth/failure-limiter.ts';
import { ClusterNode } from './cluster/cluster-node.ts';
import { ClusterRouter } from './cluster/cluster-router.ts';
import { localRouter, type SessionRouter } from './routing/session-router.ts';
import { IdentityVerifier } from './auth/identity.ts';
import { SessionTokens } from './auth/session-tokens.ts';
import { chromiumPages, type PolicyProvider } from './browser/page-factory.ts';
import { RedactionGate } from './browser/redaction/redaction-gate.ts';
import { compilePolicy, guardsFor, urlAllowedByPolicy } from './policy/engine.ts';
import { PolicyStore } from './policy/store.ts';
import { BrowserPool } from './browser/pool.ts';
import { resolveSandbox, type BrowserSandbox } from './browser/sandbox.ts';
import { ClamdScanner, NoScanner } from './files/scanner.ts';
import type { Config } from './config.ts';
import { startDemoSite, type DemoSite } from './demo/demo-site.ts';
import { createApp } from './http/app.ts';
import { Integrations } from './integrations/integrations.ts';
import type { CustomerLinkDelivery } from './http/customer-start-routes.ts';
import { ssoFromConfig } from './http/sso-routes.ts';
import { WsGateway } from './http/ws-gateway.ts';
import { createLogger, type Logger } from './log.ts';
import { pressure } from './health.ts';
import { Metrics } from './metrics.ts';
import { EgressProxy } from './net/egress-proxy.ts';
import { withLists } from './net/session-lists.ts';
import { UrlGuard, type Resolver } from './net/url-guard.ts';
import { DirectoryRecordingStore, type RecordingStore } from './recording/store.ts';
import { masterKeyFrom } from './recording/sealing.ts';
import { LeakScanner } from './recording/leak-scan.ts';
import type { EndReason } from './protocol.ts';
import { SessionRegistry } from './session/registry.ts';
import { ResourceStack } from './resource-stack.ts';

// The policy provider lives with the page factory (browser); this name stays for its callers.
export type { PolicyProvider } from './browser/page-factory.ts';

export interface VitrineOptions {
  config: Config;
  log?: Logger;
  /** DNS resolver for the URL guard (tests point names at loopback). */
  resolver?: Resolver;
  policies?: PolicyProvider;
  audit?: AuditSink;
  /** Clock for retention (tests move it forward). */
  now?: () => number;
  /** Delivers customer links of `delivery: "webhook"` sessions (customer-start-routes.ts). */
  linkDelivery?: CustomerLinkDelivery;
  /** Adaptive quality's thresholds over its defaults, when VITRINE_ADAPTIVE_QUALITY is on (tests force levels). */
  adaptiveTuning?: Partial<AdaptiveOptions>;
}

/** What running the server needs of it (main.ts): where it listens, and how it stops. */
export interface Vitrine {
  readonly url: string;
  /** Base of the links participants get (customer links, console links). */
  readonly publicUrl: string;
  readonly port: number;
  readonly config: Config;
  /** The demo site's address (VITRINE_DEMO), or null. */
  readonly demoUrl: string | null;
  /** A staff token signed by this server's identity key (the development console link). */
  mintStaffToken: IdentityVerifier['mint'];
  /**
   * Stops taking sessions (readiness down, and in cluster mode the directory says so), waits up
   * to VITRINE_DRAIN_SECONDS for running sessions to finish, then ends the rest.
   */
  drain(): Promise<void>;
  /** Stops taking sessions, ends them all with `reason`, closes browsers and the listener. */
  close(reason?: EndReason): Promise<void>;
}

/**
 * The parts of a composed server, for tests (test/support/harness.ts) and the benchmark only:
 * production code gets a `Vitrine` and nothing inside it.
 */
export interface VitrineTesting {
  readonly registry: SessionRegistry;
  /** Every session's document handoff (its temporary directory, once made). */
  readonly files: FileHandoffs;
  readonly pool: BrowserPool;
  readonly identity: IdentityVerifier;
  readonly tokens: SessionTokens;
  readonly audit: AuditSink;
  readonly metrics: Metrics;
  readonly recordings: RecordingStore | null;
  /** The OCR leak scan of finished recordings (recording/leak-scan.ts). */
  readonly leakScan: LeakScanner | null;
  /** Deletes recordings whose retention has ended (also runs every 15 minutes). */
  purgeRecordings(): void;
  readonly log: Logger;
  readonly demo: DemoSite | null;
  readonly egress: EgressProxy;
  /** Cluster mode only: this node in the cluster. */
  readonly cluster: ClusterNode | null;
  /** Webhooks and SIEM streaming; null when none is configured (server/integrations/). */
  readonly integrations: Integrations | null;
  /** The order the server's resources are undone in on close (resource-stack.ts). */
  readonly teardownOrder: string[];
}

export interface Composed {
  vitrine: Vitrine;
  testing: VitrineTesting;
}

/** Policies from the configured directory, applied in pages by the redaction gate. */
export function storePolicies(store: PolicyStore, log: Logger): PolicyProvider {
  for (const name of store.names()) for (const w of store.require(name).warnings) log.warn({ policy: name }, w);
  return {
    check: (name) => void store.require(name),
    summary: (name) => ({ ...store.summary(name), guards: guardsFor(store.require(name)) }),
    urlFilter: (name) => {
      const f = store.require(name).file;
      // The globs ride along: the egress proxy judges TLS tunnels by origin (net/session-lists.ts).
      return f.allow?.length || f.deny?.length ? withLists((url) => urlAllowedByPolicy(f, url), { allow: f.allow, deny: f.deny }) : null;
    },
    patterns: (name) => {
      const p = store.get(name);
      if (!p) return null;
      const c = compilePolicy(p);
      return [...c.alwaysPatterns, ...c.sections.flatMap((s) => s.patterns ?? [])];
    },
    createGate: (page, name) => new RedactionGate(page, compilePolicy(store.require(name)), { log: (event, details) => log.info({ policy: name, ...details }, `redaction: ${event}`) }).attach(),
  };
}

/** Starts a server; what it is made of stays inside (tests use compose()). */
export async function startVitrine(opts: VitrineOptions): Promise<Vitrine> {
  return (await compose(opts)).vitrine;
}

/**
 * Builds the server from its config, every resource onto one stack: a failure at any step
 * unwinds what was built, last first, and close() unwinds the same stack. The order of the
 * stack is the order of dependence: what ends sessions runs before what their last records,
 * pages and sockets need (integrations and the audit trail, the browsers, the listener).
 */
export async function compose(opts: VitrineOptions): Promise<Composed> {
  const { config } = opts;
  const log = opts.log ?? createLogger(config.logLevel);
  const stack = new ResourceStack(log);
  return stack.build(async () => {
    const demo = config.demo ? stack.use('demo site', await startDemoSite(), (d) => d.close()) : null;
    const allowHosts = demo ? [...config.allowHosts, new URL(demo.url).host] : config.allowHosts;
    const guard = new UrlGuard(allowHosts, opts.resolver);
    const identity = new IdentityVerifier(config);
    const tokens = new SessionTokens(config.jwtSecret, config.identity.clockSkewSeconds);
    const tempData = config.dataDir === undefined ? stack.use('temporary data', await mkdtemp(join(tmpdir(), 'vitrine-data-')), (dir) => rm(dir, { recursive: true, force: true })) : null;
    const dataDir = config.dataDir ?? tempData!;
    const audit = stack.use('audit trail', opts.audit ?? new FileAuditSink(join(dataDir, 'audit', 'audit.log'), config.auditKey, log), (a) => a.close());
    // Integrations start once the server listens; records written before then reach them from the file.
    const auditStart = audit instanceof FileAuditSink ? audit.head.seq : 0;
    let integrations: Integrations | null = null;
    // After the sessions' last records (session.ended) and the last checkpoint, before the trail closes.
    stack.defer('integrations', () => integrations?.close());
    // Signed checkpoints of the chain head on their own volume (and, as records, off the machine).
    const checkpoints =
      audit instanceof FileAuditSink
        ? stack.use(
            'audit checkpoints',
            new CheckpointWriter({
              dir: config.auditAnchor.checkpointDir ?? join(dataDir, 'audit-checkpoints'),
              trail: audit,
              key: config.auditAnchor.signing,
              log,
              intervalMs: config.auditAnchor.intervalMs,
              ...(config.cluster ? { node: config.cluster.nodeId } : {}),
            }),
            (c) => c.close(),
          )
        : null;
    const masterKey = config.recordingKey ?? (config.recordingKeyFile ? readFileSync(config.recordingKeyFile, 'utf8') : undefined);
    const recordings: RecordingStore | null = masterKey ? new DirectoryRecordingStore(join(dataDir, 'recordings'), masterKeyFrom(masterKey)) : null;
    const now = opts.now ?? Date.now;
    const purge = () => {
      for (const id of recordings?.purgeExpired(now()) ?? []) audit.record({ type: 'recording.deleted', details: { recording: id, reason: 'retention' } });
    };
    purge();
    const failures = new FailureLimiter();
    const policies = opts.policies ?? storePolicies(PolicyStore.load(config.policyDir), log);
    const egress = stack.use(
      'egress proxy',
      await EgressProxy.start({
        guard,
        onRefused: (d) => audit.record({ type: 'egress.refused', details: { host: d.host, port: d.port, reason: d.reason ?? null } }),
        // Every session context has its own route; traffic from any other context is refused.
        shared: 'refuse',
      }),
      (e) => e.close(),
    );
    const sandbox = resolveSandbox({
      unsafeNoSandbox: config.browserSandbox.unsafeNoSandbox,
      browserUser: config.browserSandbox.user,
      switcher: config.browserSandbox.switcher,
      unsafeSameUser: config.browserSandbox.unsafeSameUser,
    });
    logSandbox(log, sandbox);
    const pool = stack.use(
      'browser pool',
      await BrowserPool.start({ chromiumPath: config.chromiumPath, viewport: config.viewport, ...config.pool, log, extraArgs: egress.chromiumArgs(), sandbox, egressRoute: () => egress.openRoute() }),
      (p) => p.close(),
    );
    let publicUrl = config.publicUrl ?? '';
    const metrics = new Metrics({
      sessionsByState: () => countBy(registry.list().map((s) => s.state)),
      participantsByRole: () => countBy(registry.list().flatMap((s) => s.participants.map((p) => p.role))),
      pool: () => pool.capacity(),
      browserRestarts: () => pool.restarts,
      egressRefused: () => egress.refusedCount,
      cluster: () => cluster?.health() ?? null,
    });
    const files = new FileHandoffs({
      scanner: config.clamd ? new ClamdScanner(config.clamd) : new NoScanner(),
      browserUser: sandbox.mode === 'user' ? { uid: sandbox.uid, gid: sandbox.gid } : null,
      log,
    });
    const registry = new SessionRegistry({
      config,
      pages: chromiumPages({
        pool,
        policies,
        viewport: config.viewport,
        jpegQuality: config.jpegQuality,
        adaptiveQuality: config.adaptiveQuality,
        cpu: stack.use('CPU sampler', new CpuSampler(), (c) => c.close()),
        ...(opts.adaptiveTuning ? { adaptiveTuning: opts.adaptiveTuning } : {}),
        memoryBudgetMb: config.sessionMemoryMb,
      }),
      policies,
      tokens,
      guard,
      audit,
      metrics,
      log,
      publicUrl: () => publicUrl,
      recordings,
      files,
    });
    // After the session's last records (session.ended, recording.stopped): vouches for all of them.
    if (checkpoints) registry.onChange((event, s) => void (event === 'ended' && checkpoints.write('session_end', s.id)));
    // Scans recordings as sessions finish them: stopped once no session is left to finish one.
    const leakScan = recordings ? stack.use('leak scan', new LeakScanner({ store: recordings, audit, log, policyPatterns: (name) => policies.patterns?.(name) ?? null }), (l) => l.close()) : null;
    const cluster = config.cluster ? stack.use('cluster node', await startCluster(config, registry, { log, audit, metrics, pool }), (c) => c.close()) : null;
    const localCreations = new FailureLimiter({ max: config.sessionsPerAgentPerMinute, windowMs: 60_000 });
    // Chosen once: every part that reaches sessions elsewhere asks the router, never the mode.
    const router: SessionRouter = cluster ? new ClusterRouter(cluster) : localRouter(registry, config.drainMs);
    const creations: Limiter = router.limiter('creations', localCreations);
    const authFailures: Limiter = router.limiter('auth-failures', failures);
    let closing = false;
    let draining: Promise<void> | null = null;
    const app = createApp({
      registry,
      files,
      identity,
      audit,
      failures: authFailures,
      creations,
      router,
      ...(cluster ? { clusterView: () => cluster.membership.view() } : {}),
      ...(config.oidc ? { sso: ssoFromConfig(config, { identity, audit, log, publicUrl: () => publicUrl })! } : {}),
      metrics,
      recordings,
      leakScan,
      log,
      retryAfterSeconds: 5,
      pressure: () => pressure(pool.capacity()),
      trustProxy: config.trustProxy,
      frameAncestors: config.frameAncestors,
      tls: config.tls !== null,
      integrations: () => integrations,
      ...(checkpoints && audit instanceof FileAuditSink
        ? {
            evidence: (session: string, by: { sub: string; role: string }) =>
              exportEvidence({
                session,
                auditFile: audit.file,
                auditKey: config.auditKey,
                checkpointFile: checkpoints.file,
                key: config.auditAnchor.signing,
                keyring: config.auditAnchor.keyring,
                policyDir: config.policyDir,
                generatedBy: by,
                checkpointNow: () => checkpoints.write('evidence', session),
              }),
          }
        : {}),
      ...(opts.linkDelivery ? { linkDelivery: opts.linkDelivery } : {}),
      info: () => ({ devMode: config.devMode, demoUrl: demo?.url ?? null, company: config.companyName, logo: config.brandLogoUrl, accent: config.brandAccent, viewport: config.viewport }),
      ready: () => {
        const capacity = pool.capacity();
        const box = { sandbox: sandbox.mode === 'off' ? ('off' as const) : ('on' as const), sandboxMode: sandbox.mode };
        if (closing) return { ready: false, reason: 'shutting down', capacity, ...box };
        if (draining || router.draining) return { ready: false, reason: 'draining', capacity, ...box };
        if (!pool.ready()) return { ready: false, reason: capacity.browsers === 0 ? 'no browser running' : 'no free session capacity', capacity, ...box };
        return { ready: true, capacity, ...box };
      },
    });
    const server: Server = config.tls ? createTlsServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' }, app) : createServer(app);
    server.headersTimeout = 15_000;
    server.requestTimeout = 30_000;
    stack.defer('http listener', async () => {
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    // Attached once listening (synchronously, before any connection can arrive): a listener that
    // fails to bind rejects start-up here rather than reaching the gateway as an unhandled error.
    const gateway = stack.use(
      'websocket gateway',
      new WsGateway(server, {
        registry,
        tokens,
        log,
        audit,
        failures: authFailures,
        heartbeat: config.wsHeartbeat,
        onRefusal: (code) => metrics.refusals.inc({ code }),
        router,
      }),
      (g) => g.close(),
    );
    // Before the gateway closes their sockets, relayed participants are told to reconnect
    // elsewhere (1012) and the directory forgets this node; the cluster node's own close above,
    // for a start-up that fails before this point, is then a no-op.
    stack.defer('session routing', () => router.close());
    // First to unwind: every session ends the normal way while its participants, pages and the
    // audit trail are all still there to see it.
    let closeReason: EndReason = 'server_shutdown';
    stack.defer('sessions', () => registry.closeAll(closeReason));
    const purgeTimer = setInterval(purge, 15 * 60_000);
    purgeTimer.unref();
    stack.defer('retention purge', () => clearInterval(purgeTimer));
    stack.defer('readiness', () => void (closing = true));
    const port = (server.address() as AddressInfo).port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
    const scheme = config.tls ? 'https' : 'http';
    const url = `${scheme}://${host}:${port}`;
    if (!publicUrl) publicUrl = config.host === '127.0.0.1' || config.host === '0.0.0.0' ? `${scheme}://localhost:${port}` : url;
    log.info({ url, publicUrl, devMode: config.devMode, capacity: pool.capacity(), ...(cluster ? { node: cluster.id, internalPort: cluster.internalPort } : {}) }, 'vitrine listening');
    await cluster?.announce({ api: app, acceptParticipant: (socket, addr) => gateway.acceptForwarded(socket, addr) });
    integrations = Integrations.start({ config: config.integrations, dataDir, audit, startAt: auditStart, log, ...(opts.resolver ? { resolver: opts.resolver } : {}) });

    let closed: Promise<void> | null = null;
    const vitrine: Vitrine = {
      url,
      publicUrl,
      port,
      config,
      demoUrl: demo?.url ?? null,
      mintStaffToken: (sub, role, o) => identity.mint(sub, role, o),
      drain() {
        draining ??= router.drain();
        return draining;
      },
      close(reason: EndReason = 'server_shutdown') {
        closed ??= (async () => {
          closeReason = reason;
          await stack.close();
          log.info('vitrine stopped');
        })();
        return closed;
      },
    };
    const testing: VitrineTesting = {
      registry,
      files,
      pool,
      identity,
      tokens,
      audit,
      metrics,
      recordings,
      leakScan,
      purgeRecordings: purge,
      log,
      demo,
      egress,
      cluster,
      integrations,
      teardownOrder: stack.order,
    };
    return { vitrine, testing };
  });
}

function logSandbox(log: Logger, sandbox: BrowserSandbox): void {
  if (sandbox.mode === 'self' && sandbox.degraded)
    log.error(
      { sandbox: 'self', reason: sandbox.degraded },
      "VITRINE_UNSAFE_BROWSER_SAME_USER is set and the browser user switch does not work: session browsers run as the server's own user; a browser that escapes its sandbox could read the server's secrets",
    );
  if (sandbox.mode === 'off')
    log.error({ sandbox: 'off' }, "VITRINE_UNSAFE_NO_SANDBOX is set: session browsers run WITHOUT Chromium's sandbox; a renderer exploit on any page would reach this machine");
  else
    log.info(
      { sandbox: sandbox.mode, ...(sandbox.mode === 'user' ? { user: sandbox.name, uid: sandbox.uid, ...(sandbox.switcher ? { switcher: sandbox.switcher } : {}) } : {}) },
      "session browsers run with Chromium's sandbox",
    );
}

/** Joins the cluster (config.cluster); the node keeps its directory told of this node's sessions. */
function startCluster(config: Config, registry: SessionRegistry, d: { log: Logger; audit: AuditSink; metrics: Metrics; pool: BrowserPool }): Promise<ClusterNode> {
  const clusterConfig = config.cluster!;
  return ClusterNode.start({
    config: clusterConfig,
    drainMs: config.drainMs,
    // A node bound to one address advertises it; one bound to all addresses its host name.
    hostname: ['0.0.0.0', '::'].includes(clusterConfig.host) ? hostname() : clusterConfig.host.includes(':') ? `[${clusterConfig.host}]` : clusterConfig.host,
    registry,
    log: d.log,
    audit: d.audit,
    onPlaced: (target) => d.metrics.placements.inc({ target }),
    load: () => ({ capacity: d.pool.capacity(), cpuHeadroom: pressure(d.pool.capacity()).cpuHeadroom ?? 0 }),
  });
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
