/**
 * Where a new session goes: the live, non-draining node with the most headroom (the smaller of
 * its free-slot share and its CPU headroom), then the most free slots, counting the placements
 * this node made since each node's last heartbeat so a burst of requests does not pile onto one
 * node between heartbeats. rankNodes is the pure ranking; Placement asks the chosen node (or
 * this one) to create the session, trying the next best when one is full or unreachable.
 */
import type { StaffIdentity } from '../auth/identity.ts';
import { VitrineError, hasCode, isWireErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CreatedSession } from '../session/registry.ts';
import type { HopClient } from './hop-client.ts';

export interface NodeLoad {
  id: string;
  advertise: string;
  draining: boolean;
  /** Session slots of the node's browser pool. */
  capacity: { total: number; used: number; free: number };
  /** 0..1, 1 = idle CPU. */
  cpuHeadroom: number;
  sessions: number;
  heartbeatAt: number;
  startedAt: number;
}

/** Candidates best first; empty when no node can take a session. */
export function rankNodes(nodes: readonly NodeLoad[], recentPlacements: ReadonlyMap<string, readonly number[]> = new Map(), random: () => number = Math.random): NodeLoad[] {
  const scored = nodes
    .filter((n) => !n.draining)
    .map((n) => {
      // Placements made after the node's last heartbeat are not in its figures yet.
      const pending = (recentPlacements.get(n.id) ?? []).filter((t) => t > n.heartbeatAt).length;
      const free = Math.max(0, n.capacity.free - pending);
      const slotHeadroom = n.capacity.total > 0 ? free / n.capacity.total : 0;
      // Headroom in tenths: nodes sharing a machine (or alike) see the same load average with
      // a little noise, which must not outweigh free slots.
      // Equal nodes are taken in random order, so that several entry nodes do not all send
      // their next session to the same one.
      return { node: n, free, score: Math.floor(Math.min(slotHeadroom, Math.max(n.cpuHeadroom, 0)) * 10), tie: random() };
    })
    .filter((c) => c.free > 0);
  scored.sort((a, b) => b.score - a.score || b.free - a.free || a.tie - b.tie);
  return scored.map((c) => c.node);
}

/** Placements tried before giving up: the best nodes may have filled since their heartbeat. */
const PLACEMENT_ATTEMPTS = 3;

export interface PlacementDeps {
  /** This node's id. */
  self: string;
  /** How long a placement counts against a node that has not reported since (the node TTL). */
  nodeTtlMs: number;
  /** True once this node is draining: it takes no session itself. */
  draining(): boolean;
  liveNodes(): Promise<NodeLoad[]>;
  /** Creates the session here (the registry). */
  createHere(agent: StaffIdentity, url: string, policy: string | undefined): Promise<CreatedSession>;
  hop: Pick<HopClient, 'request'>;
  log: Logger;
  /** 'local', 'remote' or 'failed', for the placement metric. */
  onPlaced(target: 'local' | 'remote' | 'failed'): void;
  /** The directory could not be read: placement falls back to this node. */
  onDirectoryError(err: unknown): void;
}

/** Places new sessions on the node with the most headroom, asking it over the internal hop. */
export class Placement {
  readonly #deps: PlacementDeps;
  /** Placements this node made, per target node, within the node TTL. */
  readonly #recent = new Map<string, number[]>();

  constructor(deps: PlacementDeps) {
    this.#deps = deps;
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
    const { self, hop, log } = this.#deps;
    const local = async () => ({ created: await this.#deps.createHere(agent, url, policy), where: 'local' as const });
    let nodes: NodeLoad[];
    try {
      nodes = await this.#deps.liveNodes();
    } catch (e) {
      this.#deps.onDirectoryError(e);
      return local();
    }
    const ranked = rankNodes(nodes, this.#recent);
    if (!ranked.length) throw new VitrineError(this.#deps.draining() ? 'SHUTTING_DOWN' : 'POOL_FULL');
    let lastError: VitrineError = new VitrineError('POOL_FULL');
    for (const node of ranked.slice(0, PLACEMENT_ATTEMPTS)) {
      this.#note(node.id);
      if (node.id === self) {
        if (this.#deps.draining()) continue;
        try {
          return await local();
        } catch (e) {
          if (hasCode(e, 'POOL_FULL')) continue;
          throw e;
        }
      }
      let res;
      try {
        res = await hop.request(node.advertise, 'POST', '/internal/sessions', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ agent: { sub: agent.sub, name: agent.name }, url, ...(policy ? { policy } : {}) }),
          timeoutMs: 30_000,
        });
      } catch (e) {
        log.warn({ target: node.id, err: String((e as Error).message) }, 'placement: node unreachable; trying the next');
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

  #note(node: string): void {
    const now = Date.now();
    const list = (this.#recent.get(node) ?? []).filter((t) => t > now - this.#deps.nodeTtlMs);
    list.push(now);
    this.#recent.set(node, list);
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
