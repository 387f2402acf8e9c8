/**
 * This process as one node of a cluster: registers itself in the directory with its load and a
 * heartbeat, places new sessions on the node with the most headroom, forwards participants and
 * API calls for sessions that live elsewhere, ends the sessions of nodes that stop answering,
 * and drains on request. The directory is only for finding and placing; a session's state stays
 * in the process that renders it, so running sessions outlive a Redis outage.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { AuditSink } from '../audit/audit.ts';
import { FailureLimiter, type Limiter } from '../auth/failure-limiter.ts';
import type { StaffIdentity } from '../auth/identity.ts';
import { mayEnd } from '../auth/staff-permissions.ts';
import type { ClusterConfig } from '../config.ts';
import { CloseCodes, VitrineError, hasCode, isWireErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { EndReason } from '../protocol.ts';
import type { ForwardRequest, RemoteNode } from '../routing/session-router.ts';
import type { CreatedSession, SessionRegistry } from '../session/registry.ts';
import type { Session } from '../session/session.ts';
import { ClusterDirectory, type ClusterEvent } from './directory.ts';
import { HopClient, type HopResponse } from './hop-client.ts';
import { InternalServer } from './internal-server.ts';
import { rankNodes, type NodeLoad } from './placement.ts';
import { Relay } from './relay.ts';
import { SharedJoinCodes } from './shared-join-codes.ts';
import { SharedLimiter } from './shared-limiter.ts';

export type Route = { kind: 'local' } | { kind: 'remote'; node: NodeLoad } | { kind: 'ended'; reason: EndReason } | { kind: 'unknown' };

export interface ClusterNodeDeps {
  config: ClusterConfig;
  /** Bound on waiting for sessions to finish when draining. */
  drainMs: number;
  /** Public host name, used in the default advertised address. */
  hostname: string;
  registry: SessionRegistry;
  log: Logger;
  audit: AuditSink;
  load(): { capacity: { total: number; used: number; free: number }; cpuHeadroom: number };
  /** 'local', 'remote' or 'failed', for the placement metric. */
  onPlaced(target: 'local' | 'remote' | 'failed'): void;
}

export interface ClusterView {
  node: string;
  redis: 'up' | 'down';
  nodes: (NodeLoad & { heartbeatAgeMs: number })[];
  totals: { nodes: number; sessions: number; slots: number; freeSlots: number };
}

/** How long an end request waits for the owner's confirmation. */
const END_REQUEST_TIMEOUT_MS = 10_000;

/** Placements tried before giving up: the best nodes may have filled since their heartbeat. */
const PLACEMENT_ATTEMPTS = 3;

export class ClusterNode {
  readonly id: string;
  readonly directory: ClusterDirectory;
  readonly #deps: ClusterNodeDeps;
  readonly #log: Logger;
  readonly #hop: HopClient;
  #internal: InternalServer | null = null;
  #advertise = '';
  #bound: { api: RequestListener; acceptParticipant(socket: WebSocket, addr: string): void } | null = null;
  readonly #relays = new Map<string, Set<Relay>>();
  readonly #recent = new Map<string, number[]>();
  /** End requests this node sent, waiting for the owner's session-ended event. */
  readonly #endWaiters = new Map<string, Set<() => void>>();
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | null = null;
  #draining: Promise<{ ended: number }> | null = null;
  #redisDownLogged = false;
  #closed = false;

  private constructor(deps: ClusterNodeDeps) {
    this.#deps = deps;
    this.id = deps.config.nodeId;
    this.#log = deps.log.child({ node: this.id });
    this.#hop = new HopClient(deps.config.secret, this.id);
    this.directory = new ClusterDirectory({
      url: deps.config.redisUrl,
      nodeTtlMs: this.nodeTtlMs,
      onEvent: (e) => this.#onEvent(e),
      onReady: () => void this.#republish(),
      onError: (e) => this.#redisDown(e),
    });
  }

  /** Connects to Redis and opens the internal port; call announce() once the node serves. */
  static async start(deps: ClusterNodeDeps): Promise<ClusterNode> {
    const node = new ClusterNode(deps);
    try {
      await node.directory.connect();
    } catch (e) {
      await node.directory.close();
      throw new Error(`cluster mode: Redis at VITRINE_REDIS_URL is not reachable (${(e as Error).message})`, { cause: e });
    }
    try {
      node.#internal = await InternalServer.start({
        host: deps.config.host,
        port: deps.config.port,
        secret: deps.config.secret,
        log: node.#log,
        handlers: {
          place: (b) => deps.registry.create({ sub: b.agent.sub, name: b.agent.name, roles: ['agent'] }, b.url, b.policy),
          api: (req, res) => (node.#bound ? node.#bound.api(req, res) : res.writeHead(503).end()),
          acceptParticipant: (socket, addr) => (node.#bound ? node.#bound.acceptParticipant(socket, addr) : socket.close(CloseCodes.RECONNECT, 'node starting')),
          drain: () => node.drain(),
        },
      });
    } catch (e) {
      await node.directory.close();
      throw e;
    }
    node.#advertise = deps.config.advertise ?? `${deps.hostname}:${node.#internal.port}`;
    return node;
  }

  get nodeTtlMs(): number {
    return this.#deps.config.heartbeatMs * 3;
  }

  get internalPort(): number {
    return this.#internal?.port ?? 0;
  }

  get draining(): boolean {
    return this.#draining !== null;
  }

  /** Wires the public API and gateway in, registers this node and starts the heartbeat. */
  async announce(bound: { api: RequestListener; acceptParticipant(socket: WebSocket, addr: string): void }): Promise<void> {
    this.#bound = bound;
    await this.#beat();
    this.#deps.audit.record({ type: 'cluster.node_started', details: { node: this.id, advertise: this.#advertise } });
    this.#log.info({ advertise: this.#advertise, heartbeatMs: this.#deps.config.heartbeatMs }, 'cluster node registered');
    this.#timer = setInterval(() => void this.#beat(), this.#deps.config.heartbeatMs);
    this.#timer.unref();
  }

  /** Limiters whose counts every node shares. */
  limiter(name: string, local: FailureLimiter = new FailureLimiter()): Limiter {
    return new SharedLimiter(name, this.directory, local, (e) => this.#redisDown(e));
  }

  #load(): NodeLoad {
    const { capacity, cpuHeadroom } = this.#deps.load();
    return {
      id: this.id,
      advertise: this.#advertise,
      draining: this.draining,
      capacity,
      cpuHeadroom,
      sessions: this.#deps.registry.size,
      heartbeatAt: Date.now(),
      startedAt: this.#startedAt,
    };
  }

  async #beat(): Promise<void> {
    if (this.#closed || !this.directory.connected) return;
    try {
      if (await this.directory.takeLostMarker(this.id)) await this.#fence();
      await this.directory.heartbeat(this.#load());
      for (const lost of await this.directory.reapLost(this.id)) {
        this.#log.warn({ lost: lost.node, sessions: lost.sessions.length }, 'cluster node lost: its sessions were ended');
        this.#deps.audit.record({ type: 'cluster.node_lost', details: { node: lost.node, sessions: lost.sessions.length } });
      }
      this.#redisDownLogged = false;
    } catch (e) {
      this.#redisDown(e);
    }
  }

  /**
   * Other nodes declared this one lost (its heartbeat lapsed) and told participants its sessions
   * ended; whatever still runs here must end too, or it would run on unseen.
   */
  async #fence(): Promise<void> {
    const sessions = this.#deps.registry.list();
    this.#log.error({ sessions: sessions.length }, 'this node was declared lost by the cluster; ending its sessions');
    this.#deps.audit.record({ type: 'cluster.node_fenced', details: { node: this.id, sessions: sessions.length } });
    await Promise.allSettled(sessions.map((s) => s.end('node_lost')));
  }

  /** After (re)connecting to Redis, which may have lost everything: put this node back. */
  async #republish(): Promise<void> {
    if (this.#closed || !this.#bound) return;
    this.#log.info('cluster directory connected; registering this node and its sessions');
    await this.#beat();
    for (const s of this.#deps.registry.list()) await this.sessionCreated(s).catch((e) => this.#redisDown(e));
  }

  #redisDown(e: unknown): void {
    if (this.#redisDownLogged || this.#closed) return;
    this.#redisDownLogged = true;
    this.#log.warn({ err: String((e as Error)?.message ?? e) }, 'cluster directory unreachable: running sessions go on; new sessions are placed here; limits count per node');
  }

  // --- sessions ---------------------------------------------------------------------------

  async sessionCreated(s: Session): Promise<void> {
    const ttl = s.createdAt + s.maxDurationMs + 60_000 - Date.now();
    await this.directory.putSession({ id: s.id, node: this.id, agent: { sub: s.createdBy.sub, name: s.createdBy.name }, createdAt: s.createdAt, policy: s.policy.name }, ttl);
    await this.#beat();
  }

  async sessionEnded(s: Session): Promise<void> {
    await this.directory.endSession(s.id, s.endReason ?? 'error', this.id);
    await this.#beat();
  }

  /** Places a session on the node with the most headroom; same answer as a local creation. */
  async place(agent: StaffIdentity, url: string, policy: string | undefined): Promise<CreatedSession> {
    try {
      const placed = await this.#place(agent, url, policy);
      this.#deps.onPlaced(placed.where);
      return placed.created;
    } catch (e) {
      this.#deps.onPlaced('failed');
      throw e;
    }
  }

  async #place(agent: StaffIdentity, url: string, policy: string | undefined): Promise<{ created: CreatedSession; where: 'local' | 'remote' }> {
    const local = async () => ({ created: await this.#deps.registry.create(agent, url, policy), where: 'local' as const });
    let nodes: NodeLoad[];
    try {
      nodes = await this.directory.liveNodes();
    } catch (e) {
      this.#redisDown(e);
      return local();
    }
    const ranked = rankNodes(nodes, this.#recent);
    if (!ranked.length) throw new VitrineError(this.draining ? 'SHUTTING_DOWN' : 'POOL_FULL');
    let lastError: VitrineError = new VitrineError('POOL_FULL');
    for (const node of ranked.slice(0, PLACEMENT_ATTEMPTS)) {
      this.#notePlacement(node.id);
      if (node.id === this.id) {
        if (this.draining) continue;
        try {
          return await local();
        } catch (e) {
          if (hasCode(e, 'POOL_FULL')) continue;
          throw e;
        }
      }
      let res;
      try {
        res = await this.#hop.request(node.advertise, 'POST', '/internal/sessions', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ agent: { sub: agent.sub, name: agent.name }, url, ...(policy ? { policy } : {}) }),
          timeoutMs: 30_000,
        });
      } catch (e) {
        this.#log.warn({ target: node.id, err: String((e as Error).message) }, 'placement: node unreachable; trying the next');
        lastError = new VitrineError('NODE_UNAVAILABLE');
        continue;
      }
      if (res.status === 201) return { created: JSON.parse(res.body.toString('utf8')) as CreatedSession, where: 'remote' };
      const err = remoteError(res.status, res.body);
      // Full or leaving since its last heartbeat: the next node may have room. Anything else
      // (a refused URL, an unknown policy) would be refused everywhere.
      if (err.code !== 'POOL_FULL' && err.code !== 'SHUTTING_DOWN' && err.code !== 'NODE_UNAVAILABLE') throw err;
      lastError = err;
    }
    throw lastError;
  }

  #notePlacement(node: string): void {
    const now = Date.now();
    const list = (this.#recent.get(node) ?? []).filter((t) => t > now - this.nodeTtlMs);
    list.push(now);
    this.#recent.set(node, list);
  }

  /** Where a session lives, as far as this node can tell. */
  async route(sessionId: string): Promise<Route> {
    if (this.#deps.registry.get(sessionId)) return { kind: 'local' };
    let record;
    try {
      record = await this.directory.session(sessionId);
    } catch (e) {
      this.#redisDown(e);
      return { kind: 'unknown' };
    }
    if (!record) return { kind: 'unknown' };
    if (record.ended) return { kind: 'ended', reason: record.ended.reason };
    if (record.node === this.id) return { kind: 'unknown' };
    const node = await this.directory.node(record.node).catch(() => null);
    // Its heartbeat lapsed: the reaper is about to end its sessions, if it has not yet.
    if (!node) return { kind: 'ended', reason: 'node_lost' };
    return { kind: 'remote', node };
  }

  /** The live node other than this one that owns (or, with includeEnded, owned) a session. */
  async owner(sessionId: string, includeEnded = false): Promise<NodeLoad | null> {
    if (includeEnded) {
      const record = await this.directory.session(sessionId).catch(() => null);
      if (!record || record.node === this.id) return null;
      return this.directory.node(record.node).catch(() => null);
    }
    const route = await this.route(sessionId);
    return route.kind === 'remote' ? route.node : null;
  }

  /** Attaches a participant to a session owned by another node; null when there is none. */
  async relay(client: WebSocket, sessionId: string, join: string, addr: string): Promise<Relay | null> {
    const route = await this.route(sessionId);
    if (route.kind !== 'remote') return null;
    const relay = new Relay({
      session: sessionId,
      client,
      onLost: (r) => void this.#settleLost(r),
      onClosed: (r) => this.#relays.get(r.session)?.delete(r),
    });
    let set = this.#relays.get(sessionId);
    if (!set) this.#relays.set(sessionId, (set = new Set()));
    set.add(relay);
    relay.attach(this.#hop.openSocket(route.node.advertise, addr), join);
    return relay;
  }

  get relayCount(): number {
    let n = 0;
    for (const set of this.#relays.values()) n += set.size;
    return n;
  }

  /** The owner's socket broke: wait for the directory to say whether the session ended. */
  async #settleLost(relay: Relay): Promise<void> {
    const deadline = Date.now() + this.nodeTtlMs + 2 * this.#deps.config.heartbeatMs;
    while (Date.now() < deadline && !this.#closed) {
      const route = await this.route(relay.session);
      if (route.kind === 'ended') return relay.end(route.reason);
      await new Promise((r) => setTimeout(r, Math.min(500, this.#deps.config.heartbeatMs)));
    }
    // The owner is alive but this hop broke: the participant reconnects and gets a fresh one.
    relay.close(CloseCodes.RECONNECT, 'lost the connection to the session; reconnect');
  }

  #onEvent(e: ClusterEvent): void {
    if (e.type === 'session-ended') {
      // Normal ends reach participants from the owner itself; a lost node cannot say so.
      if (e.reason === 'node_lost') for (const r of [...(this.#relays.get(e.session) ?? [])]) r.end('node_lost');
      for (const done of this.#endWaiters.get(e.session) ?? []) done();
    } else if (e.type === 'end-session') {
      if (e.node !== this.id) return;
      const s = this.#deps.registry.get(e.session);
      if (!s) return;
      this.#log.info({ session: e.session, by: e.by }, 'session ended at the request of another node');
      void s.end('deleted');
    } else if (e.node === this.id) {
      void this.#fence();
    }
  }

  /**
   * DELETE /api/sessions/:id for a session another node owns: authorized here from the
   * directory (who started it), sent to the owner through Redis, answered once it has ended.
   * False when the directory knows no such live session elsewhere.
   */
  async endElsewhere(sessionId: string, who: { sub: string; role: string }): Promise<boolean> {
    const record = await this.directory.session(sessionId).catch((e) => {
      this.#redisDown(e);
      return null;
    });
    if (!record || record.ended || record.node === this.id) return false;
    if (!mayEnd(who, record.agent.sub)) throw new VitrineError('FORBIDDEN', 'only the agent who started the session, or a supervisor, may end it');
    const ended = new Promise<boolean>((resolve) => {
      const done = () => resolve(true);
      let set = this.#endWaiters.get(sessionId);
      if (!set) this.#endWaiters.set(sessionId, (set = new Set()));
      set.add(done);
      setTimeout(() => resolve(false), END_REQUEST_TIMEOUT_MS).unref();
    }).finally(() => this.#endWaiters.delete(sessionId));
    await this.directory.requestEnd(sessionId, record.node, who.sub);
    if (!(await ended)) throw new VitrineError('NODE_UNAVAILABLE', 'the node running this session did not confirm the end; retry');
    return true;
  }

  /** A single-use claim shared by all nodes; true when Redis is away (the owner still checks). */
  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    try {
      return await this.directory.claimOnce(key, ttlMs);
    } catch (e) {
      this.#redisDown(e);
      return true;
    }
  }

  /** Join codes findable from every node (hashed in Redis, held by the owner). */
  joinCodes(): SharedJoinCodes {
    return new SharedJoinCodes(this.id, this.directory, this.#deps.config.secret);
  }

  // --- API across nodes (transport only: server/http/forwarding.ts makes the requests) -----

  /**
   * Has one node answer a public API request: the node a session was located on, or one named
   * by id (a join code claim goes to the node holding the code). NODE_UNAVAILABLE when it cannot.
   */
  async forward(to: NodeLoad | RemoteNode | string, req: ForwardRequest): Promise<HopResponse> {
    const node = typeof to !== 'string' && 'advertise' in to ? to : await this.directory.node(typeof to === 'string' ? to : to.id).catch(() => null);
    if (!node) throw new VitrineError('NODE_UNAVAILABLE');
    try {
      return await this.#ask(node, req);
    } catch {
      throw new VitrineError('NODE_UNAVAILABLE');
    }
  }

  /**
   * Streams a request about a session `to` runs there, and its answer back, neither held whole
   * (document handoff: a customer's upload, a one-time download). NODE_UNAVAILABLE only while
   * nothing has been answered; a hop broken later breaks the client's connection too.
   */
  async stream(to: NodeLoad | RemoteNode | string, req: ForwardRequest, body: IncomingMessage, res: ServerResponse): Promise<void> {
    const node = typeof to !== 'string' && 'advertise' in to ? to : await this.directory.node(typeof to === 'string' ? to : to.id).catch(() => null);
    if (!node) throw new VitrineError('NODE_UNAVAILABLE');
    try {
      await this.#hop.pipe(node.advertise, body, res, `/internal${req.path}`, { headers: req.headers, clientAddress: req.clientAddress });
    } catch {
      throw new VitrineError('NODE_UNAVAILABLE');
    }
  }

  #ask(node: NodeLoad, req: ForwardRequest, timeoutMs = 30_000): Promise<HopResponse> {
    return this.#hop.request(node.advertise, req.method, `/internal${req.path}`, {
      headers: req.body !== undefined ? { ...req.headers, 'content-type': 'application/json' } : req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      clientAddress: req.clientAddress,
      timeoutMs,
      ...(req.maxBytes ? { maxBytes: req.maxBytes } : {}),
    });
  }

  /**
   * Asks every other live node in turn (recordings live on the node that recorded them); the
   * first answer that is not a 404, or null when no node had it.
   */
  async forwardToAny(req: ForwardRequest): Promise<HopResponse | null> {
    const nodes = (await this.directory.liveNodes().catch(() => [] as NodeLoad[])).filter((n) => n.id !== this.id);
    for (const node of nodes) {
      const answer = await this.#ask(node, req).catch(() => null);
      if (!answer || answer.status === 404) continue;
      return answer;
    }
    return null;
  }

  /** A list (sessions, recordings) from every other live node, asked with the caller's own credentials. */
  async remoteList(what: 'sessions' | 'recordings', req: ForwardRequest): Promise<{ items: Record<string, unknown>[]; unreachable: string[] }> {
    const nodes = (await this.directory.liveNodes().catch(() => [] as NodeLoad[])).filter((n) => n.id !== this.id);
    const items: Record<string, unknown>[] = [];
    const unreachable: string[] = [];
    await Promise.all(
      nodes.map(async (n) => {
        try {
          const r = await this.#ask(n, { ...req, method: 'GET', path: `/api/${what}` }, 5000);
          if (r.status !== 200) throw new Error(String(r.status));
          items.push(...((JSON.parse(r.body.toString('utf8')) as Record<string, Record<string, unknown>[]>)[what] ?? []));
        } catch {
          unreachable.push(n.id);
        }
      }),
    );
    return { items, unreachable };
  }

  async view(): Promise<ClusterView> {
    const now = Date.now();
    let nodes: NodeLoad[] = [];
    const up = this.directory.connected;
    if (up) nodes = await this.directory.liveNodes().catch(() => []);
    if (!nodes.some((n) => n.id === this.id)) nodes.push(this.#load());
    nodes.sort((a, b) => a.id.localeCompare(b.id));
    return {
      node: this.id,
      redis: up ? 'up' : 'down',
      nodes: nodes.map((n) => ({ ...n, heartbeatAgeMs: Math.max(0, now - n.heartbeatAt) })),
      totals: {
        nodes: nodes.length,
        sessions: nodes.reduce((a, n) => a + n.sessions, 0),
        slots: nodes.reduce((a, n) => a + n.capacity.total, 0),
        freeSlots: nodes.filter((n) => !n.draining).reduce((a, n) => a + n.capacity.free, 0),
      },
    };
  }

  // --- lifecycle --------------------------------------------------------------------------

  /**
   * Stops taking sessions (readiness goes down, the directory says draining), waits up to the
   * drain bound for running sessions to finish, then ends the rest. Idempotent.
   */
  drain(): Promise<{ ended: number }> {
    this.#draining ??= (async () => {
      const { registry, drainMs } = this.#deps;
      registry.stopAccepting();
      this.#log.info({ sessions: registry.size, boundMs: drainMs }, 'draining: no new sessions here');
      this.#deps.audit.record({ type: 'cluster.node_draining', details: { node: this.id, sessions: registry.size } });
      await this.#beat();
      const ended = await registry.drain(drainMs);
      this.#log.info({ ended }, 'drained');
      return { ended };
    })();
    return this.#draining;
  }

  /** Leaves the cluster: relays told to reconnect elsewhere, directory entry removed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const set of this.#relays.values()) for (const r of [...set]) r.close(CloseCodes.RECONNECT, 'this node is shutting down; reconnect');
    await this.directory.deregister(this.id).catch(() => undefined);
    await this.#internal?.close();
    await this.directory.close();
    this.#hop.close();
  }
}

/** A coded error answered by another node, or NODE_UNAVAILABLE when it is not one of ours. */
function remoteError(status: number, body: Buffer): VitrineError {
  try {
    const e = (JSON.parse(body.toString('utf8')) as { error?: { code?: string; message?: string } }).error;
    if (isWireErrorCode(e?.code)) return new VitrineError(e.code, typeof e.message === 'string' ? e.message.slice(0, 300) : undefined);
  } catch {
    /* not JSON */
  }
  return new VitrineError('NODE_UNAVAILABLE', `another node answered ${status}`);
}
