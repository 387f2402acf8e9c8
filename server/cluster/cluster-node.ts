/**
 * This process as one node of a cluster: connects to the directory, opens the internal port and
 * composes the parts that do the work, each behind a narrow interface:
 *   membership    this node's record and heartbeat, lost nodes, fencing, draining (membership.ts)
 *   placement     new sessions on the node with the most headroom (placement.ts)
 *   forwarding    participants and API calls for sessions that live elsewhere (forwarding.ts)
 *   coordination  distributed end, single-use claims, shared limits, join codes (coordination.ts)
 * The directory is only for finding and placing; a session's state stays in the process that
 * renders it, so running sessions outlive a Redis outage. ClusterRouter (cluster-router.ts)
 * exposes these parts as the routing seam.
 */
import type { RequestListener } from 'node:http';
import type { WebSocket } from 'ws';
import type { AuditSink } from '../audit/audit.ts';
import type { ClusterConfig } from '../config.ts';
import { CloseCodes } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SessionRegistry } from '../session/registry.ts';
import { Coordination } from './coordination.ts';
import { ClusterDirectory, type ClusterEvent } from './directory.ts';
import { Forwarding } from './forwarding.ts';
import { HopClient } from './hop-client.ts';
import { InternalServer } from './internal-server.ts';
import { Membership } from './membership.ts';
import { Placement } from './placement.ts';

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

/** What this node serves to other nodes once it is up: the public API and the participant gateway. */
export interface Served {
  api: RequestListener;
  acceptParticipant(socket: WebSocket, addr: string): void;
}

export class ClusterNode {
  readonly id: string;
  readonly membership: Membership;
  readonly placement: Placement;
  readonly forwarding: Forwarding;
  readonly coordination: Coordination;
  readonly #directory: ClusterDirectory;
  readonly #hop: HopClient;
  readonly #log: Logger;
  #internal: InternalServer | null = null;
  #advertise = '';
  #served: Served | null = null;
  #closed = false;

  private constructor(deps: ClusterNodeDeps) {
    const { config, registry } = deps;
    this.id = config.nodeId;
    const log = (this.#log = deps.log.child({ node: this.id }));
    this.#hop = new HopClient(config.secret, this.id);
    const heartbeatMs = config.heartbeatMs;
    const nodeTtlMs = heartbeatMs * 3;
    this.#directory = new ClusterDirectory({
      url: config.redisUrl,
      nodeTtlMs,
      onEvent: (e) => this.#onEvent(e),
      onReady: () => void this.membership.republish(),
      onError: (e) => this.membership.directoryDown(e),
    });
    const directory = this.#directory;
    const onDirectoryError = (e: unknown) => this.membership.directoryDown(e);
    this.membership = new Membership({ self: this.id, advertise: () => this.#advertise, heartbeatMs, drainMs: deps.drainMs, directory, registry, log, audit: deps.audit, load: deps.load });
    this.placement = new Placement({
      self: this.id,
      nodeTtlMs,
      draining: () => this.membership.draining,
      liveNodes: () => directory.liveNodes(),
      createHere: (agent, url, policy) => registry.create(agent, url, policy),
      hop: this.#hop,
      log,
      onPlaced: deps.onPlaced,
      onDirectoryError,
    });
    this.forwarding = new Forwarding({ self: this.id, directory, hop: this.#hop, isHere: (id) => !!registry.get(id), heartbeatMs, nodeTtlMs, onDirectoryError });
    this.coordination = new Coordination({ self: this.id, secret: config.secret, directory, registry, log, onDirectoryError });
  }

  /**
   * Connects to Redis and opens the internal port; call announce() once the node serves. Keeps
   * the directory told of this node's sessions from then on.
   */
  static async start(deps: ClusterNodeDeps): Promise<ClusterNode> {
    const node = new ClusterNode(deps);
    try {
      await node.#directory.connect();
    } catch (e) {
      await node.#directory.close();
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
          api: (req, res) => (node.#served ? node.#served.api(req, res) : res.writeHead(503).end()),
          acceptParticipant: (socket, addr) => (node.#served ? node.#served.acceptParticipant(socket, addr) : socket.close(CloseCodes.RECONNECT, 'node starting')),
          drain: () => node.membership.drain(),
        },
      });
    } catch (e) {
      await node.#directory.close();
      throw e;
    }
    node.#advertise = deps.config.advertise ?? `${deps.hostname}:${node.#internal.port}`;
    deps.registry.onChange((event, s) => {
      const done = event === 'created' ? node.membership.sessionCreated(s) : node.membership.sessionEnded(s);
      done.catch((e) => deps.log.warn({ session: s.id, err: String((e as Error)?.message ?? e) }, 'cluster directory not updated'));
    });
    return node;
  }

  get internalPort(): number {
    return this.#internal?.port ?? 0;
  }

  /** For the metrics: whether Redis answers, participants relayed from here, draining. */
  health(): { redisUp: boolean; relays: number; draining: boolean } {
    return { redisUp: this.#directory.connected, relays: this.forwarding.relayCount, draining: this.membership.draining };
  }

  /** Wires the public API and gateway in, registers this node and starts the heartbeat. */
  async announce(served: Served): Promise<void> {
    this.#served = served;
    await this.membership.announce();
  }

  /** The directory's control events, to the part each concerns. */
  #onEvent(e: ClusterEvent): void {
    if (e.type === 'session-ended') {
      this.forwarding.sessionEnded(e.session, e.reason);
      this.coordination.sessionEnded(e.session);
    } else if (e.type === 'end-session') {
      this.coordination.endRequested(e);
    } else if (e.node === this.id) {
      void this.membership.fence();
    }
  }

  /** Leaves the cluster: relays told to reconnect elsewhere, directory entry removed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.forwarding.close();
    await this.membership.leave();
    await this.#internal?.close();
    await this.#directory.close();
    this.#hop.close();
  }
}
