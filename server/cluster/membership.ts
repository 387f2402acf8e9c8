/**
 * This node's place in the cluster directory: its record (load, address, draining) renewed by a
 * heartbeat, the records of the sessions it runs, the reaping of nodes whose heartbeat lapsed
 * (their sessions ended for everyone), fencing when this node was itself declared lost, and
 * draining. It also keeps the one "directory unreachable" warning: every part of the cluster
 * reports failures to Redis here, and a heartbeat that gets through clears it.
 */
import type { AuditSink } from '../audit/audit.ts';
import type { Logger } from '../log.ts';
import type { SessionRegistry } from '../session/registry.ts';
import type { Session } from '../session/session.ts';
import type { ClusterDirectory } from './directory.ts';
import type { NodeLoad } from './placement.ts';

export interface ClusterView {
  node: string;
  redis: 'up' | 'down';
  nodes: (NodeLoad & { heartbeatAgeMs: number })[];
  totals: { nodes: number; sessions: number; slots: number; freeSlots: number };
}

export interface MembershipDeps {
  self: string;
  /** host:port of this node's internal server, known once it listens. */
  advertise(): string;
  heartbeatMs: number;
  /** Bound on waiting for sessions to finish when draining. */
  drainMs: number;
  directory: Pick<ClusterDirectory, 'connected' | 'heartbeat' | 'deregister' | 'liveNodes' | 'putSession' | 'endSession' | 'reapLost' | 'takeLostMarker'>;
  registry: Pick<SessionRegistry, 'list' | 'size' | 'stopAccepting' | 'drain'>;
  log: Logger;
  audit: Pick<AuditSink, 'record'>;
  load(): { capacity: { total: number; used: number; free: number }; cpuHeadroom: number };
}

export class Membership {
  readonly #deps: MembershipDeps;
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | null = null;
  #announced = false;
  #draining: Promise<{ ended: number }> | null = null;
  #redisDownLogged = false;
  #closed = false;

  constructor(deps: MembershipDeps) {
    this.#deps = deps;
  }

  /** A node whose record is older than this is lost: three heartbeats. */
  get nodeTtlMs(): number {
    return this.#deps.heartbeatMs * 3;
  }

  get draining(): boolean {
    return this.#draining !== null;
  }

  /** Registers this node, starts the heartbeat and keeps the directory told of its sessions. */
  async announce(): Promise<void> {
    const { self, heartbeatMs, audit, log } = this.#deps;
    this.#announced = true;
    await this.#beat();
    audit.record({ type: 'cluster.node_started', details: { node: self, advertise: this.#deps.advertise() } });
    log.info({ advertise: this.#deps.advertise(), heartbeatMs }, 'cluster node registered');
    this.#timer = setInterval(() => void this.#beat(), heartbeatMs);
    this.#timer.unref();
  }

  /** Logs once that Redis is away, until a heartbeat gets through again. */
  directoryDown(e: unknown): void {
    if (this.#redisDownLogged || this.#closed) return;
    this.#redisDownLogged = true;
    this.#deps.log.warn({ err: String((e as Error)?.message ?? e) }, 'cluster directory unreachable: running sessions go on; new sessions are placed here; limits count per node');
  }

  /** This node's record as the directory holds it. */
  load(): NodeLoad {
    const { capacity, cpuHeadroom } = this.#deps.load();
    return {
      id: this.#deps.self,
      advertise: this.#deps.advertise(),
      draining: this.draining,
      capacity,
      cpuHeadroom,
      sessions: this.#deps.registry.size,
      heartbeatAt: Date.now(),
      startedAt: this.#startedAt,
    };
  }

  async #beat(): Promise<void> {
    const { directory, self, log, audit } = this.#deps;
    if (this.#closed || !directory.connected) return;
    try {
      if (await directory.takeLostMarker(self)) await this.fence();
      await directory.heartbeat(this.load());
      for (const lost of await directory.reapLost(self)) {
        log.warn({ lost: lost.node, sessions: lost.sessions.length }, 'cluster node lost: its sessions were ended');
        audit.record({ type: 'cluster.node_lost', details: { node: lost.node, sessions: lost.sessions.length } });
      }
      this.#redisDownLogged = false;
    } catch (e) {
      this.directoryDown(e);
    }
  }

  /**
   * Other nodes declared this one lost (its heartbeat lapsed) and told participants its sessions
   * ended; whatever still runs here must end too, or it would run on unseen.
   */
  async fence(): Promise<void> {
    const sessions = this.#deps.registry.list();
    this.#deps.log.error({ sessions: sessions.length }, 'this node was declared lost by the cluster; ending its sessions');
    this.#deps.audit.record({ type: 'cluster.node_fenced', details: { node: this.#deps.self, sessions: sessions.length } });
    await Promise.allSettled(sessions.map((s) => s.end('node_lost')));
  }

  /** After (re)connecting to Redis, which may have lost everything: put this node back. */
  async republish(): Promise<void> {
    if (this.#closed || !this.#announced) return;
    this.#deps.log.info('cluster directory connected; registering this node and its sessions');
    await this.#beat();
    for (const s of this.#deps.registry.list()) await this.sessionCreated(s).catch((e) => this.directoryDown(e));
  }

  async sessionCreated(s: Session): Promise<void> {
    const ttl = s.createdAt + s.maxDurationMs + 60_000 - Date.now();
    await this.#deps.directory.putSession({ id: s.id, node: this.#deps.self, agent: { sub: s.createdBy.sub, name: s.createdBy.name }, createdAt: s.createdAt, policy: s.policy.name }, ttl);
    await this.#beat();
  }

  async sessionEnded(s: Session): Promise<void> {
    await this.#deps.directory.endSession(s.id, s.endReason ?? 'error', this.#deps.self);
    await this.#beat();
  }

  async view(): Promise<ClusterView> {
    const now = Date.now();
    const { directory, self } = this.#deps;
    let nodes: NodeLoad[] = [];
    const up = directory.connected;
    if (up) nodes = await directory.liveNodes().catch(() => []);
    if (!nodes.some((n) => n.id === self)) nodes.push(this.load());
    nodes.sort((a, b) => a.id.localeCompare(b.id));
    return {
      node: self,
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

  /**
   * Stops taking sessions (readiness goes down, the directory says draining), waits up to the
   * drain bound for running sessions to finish, then ends the rest. Idempotent.
   */
  drain(): Promise<{ ended: number }> {
    this.#draining ??= (async () => {
      const { registry, drainMs, log, audit, self } = this.#deps;
      registry.stopAccepting();
      log.info({ sessions: registry.size, boundMs: drainMs }, 'draining: no new sessions here');
      audit.record({ type: 'cluster.node_draining', details: { node: self, sessions: registry.size } });
      await this.#beat();
      const ended = await registry.drain(drainMs);
      log.info({ ended }, 'drained');
      return { ended };
    })();
    return this.#draining;
  }

  /** Stops the heartbeat and removes this node's record from the directory. */
  async leave(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#deps.directory.deregister(this.#deps.self).catch(() => undefined);
  }
}
