/**
 * The cluster's implementation of the routing seam (server/routing/session-router.ts): sessions
 * are placed by headroom across nodes, located through the directory, reached over the signed
 * internal hop, and ended, claimed and limited cluster-wide. Chosen once, at composition, when
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

export class ClusterRouter implements SessionRouter {
  readonly #node: ClusterNode;

  constructor(node: ClusterNode) {
    this.#node = node;
  }

  get node(): string {
    return this.#node.id;
  }

  get draining(): boolean {
    return this.#node.draining;
  }

  create(agent: StaffIdentity, url: string, policy: string | undefined): Promise<CreatedSession> {
    return this.#node.place(agent, url, policy);
  }

  locate(sessionId: string, includeEnded = false): Promise<RemoteNode | null> {
    return this.#node.owner(sessionId, includeEnded);
  }

  forward(to: RemoteNode | string, req: ForwardRequest): Promise<ForwardAnswer> {
    return this.#node.forward(to, req);
  }

  stream(to: RemoteNode, req: ForwardRequest, body: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#node.stream(to, req, body, res);
  }

  forwardToAny(req: ForwardRequest): Promise<ForwardAnswer | null> {
    return this.#node.forwardToAny(req);
  }

  attach(client: WebSocket, sessionId: string, join: string, addr: string): Promise<RelayedParticipant | null> {
    return this.#node.relay(client, sessionId, join, addr);
  }

  endElsewhere(sessionId: string, who: { sub: string; role: string }): Promise<boolean> {
    return this.#node.endElsewhere(sessionId, who);
  }

  listElsewhere(what: 'sessions' | 'recordings', req: ForwardRequest): Promise<{ items: Record<string, unknown>[]; unreachable: string[] }> {
    return this.#node.remoteList(what, req);
  }

  claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.#node.claimOnce(key, ttlMs);
  }

  limiter(name: string, local?: FailureLimiter): Limiter {
    return this.#node.limiter(name, local);
  }

  joinCodes(): SharedCodes {
    return this.#node.joinCodes();
  }

  async drain(): Promise<void> {
    await this.#node.drain();
  }

  close(): Promise<void> {
    return this.#node.close();
  }
}
