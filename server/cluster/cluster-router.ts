/**
 * The cluster's implementation of the routing seam (server/routing/session-router.ts): sessions
 * are placed by headroom across nodes (placement), located through the directory and reached
 * over the signed internal hop (forwarding), and ended, claimed and limited cluster-wide
 * (coordination); draining is the node's membership. Chosen once, at composition, when
 * VITRINE_CLUSTER_REDIS_URL is set; the HTTP and WebSocket code never learn which it got.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { FailureLimiter, Limiter } from '../auth/failure-limiter.ts';
import type { StaffIdentity } from '../auth/identity.ts';
import type { ForwardAnswer, ForwardRequest, RelayedParticipant, RemoteNode, SessionRouter } from '../routing/session-router.ts';
import type { SharedCodes } from '../session/join-codes.ts';
import type { CreatedSession } from '../session/registry.ts';
import type { ClusterNode } from './cluster-node.ts';
import type { Coordination } from './coordination.ts';
import type { Forwarding } from './forwarding.ts';
import type { Membership } from './membership.ts';
import type { Placement } from './placement.ts';

export class ClusterRouter implements SessionRouter {
  readonly node: string;
  readonly #membership: Membership;
  readonly #placement: Placement;
  readonly #forwarding: Forwarding;
  readonly #coordination: Coordination;
  readonly #close: () => Promise<void>;

  constructor(cluster: ClusterNode) {
    this.node = cluster.id;
    this.#membership = cluster.membership;
    this.#placement = cluster.placement;
    this.#forwarding = cluster.forwarding;
    this.#coordination = cluster.coordination;
    this.#close = () => cluster.close();
  }

  get draining(): boolean {
    return this.#membership.draining;
  }

  create(agent: StaffIdentity, url: string, policy: string | undefined): Promise<CreatedSession> {
    return this.#placement.place(agent, url, policy);
  }

  locate(sessionId: string, includeEnded = false): Promise<RemoteNode | null> {
    return this.#forwarding.owner(sessionId, includeEnded);
  }

  forward(to: RemoteNode | string, req: ForwardRequest): Promise<ForwardAnswer> {
    return this.#forwarding.forward(to, req);
  }

  stream(to: RemoteNode, req: ForwardRequest, body: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#forwarding.stream(to, req, body, res);
  }

  forwardToAny(req: ForwardRequest): Promise<ForwardAnswer | null> {
    return this.#forwarding.forwardToAny(req);
  }

  attach(client: WebSocket, sessionId: string, join: string, addr: string): Promise<RelayedParticipant | null> {
    return this.#forwarding.relay(client, sessionId, join, addr);
  }

  listElsewhere(what: 'sessions' | 'recordings', req: ForwardRequest): Promise<{ items: Record<string, unknown>[]; unreachable: string[] }> {
    return this.#forwarding.remoteList(what, req);
  }

  endElsewhere(sessionId: string, who: { sub: string; role: string }): Promise<boolean> {
    return this.#coordination.endElsewhere(sessionId, who);
  }

  claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.#coordination.claimOnce(key, ttlMs);
  }

  limiter(name: string, local?: FailureLimiter): Limiter {
    return this.#coordination.limiter(name, local);
  }

  joinCodes(): SharedCodes {
    return this.#coordination.joinCodes();
  }

  async drain(): Promise<void> {
    await this.#membership.drain();
  }

  close(): Promise<void> {
    return this.#close();
  }
}
