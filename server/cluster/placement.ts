/**
 * Where a new session goes: the live, non-draining node with the most headroom (the smaller of
 * its free-slot share and its CPU headroom), then the most free slots, counting the placements this node made since each node's last heartbeat so a
 * burst of requests does not pile onto one node between heartbeats.
 */
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
