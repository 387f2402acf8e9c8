/**
 * Where sessions live, and how a request or a participant reaches the process that runs one: the
 * one seam between single-node and cluster mode (the model is LiveKit's pkg/routing, a Router
 * with a LocalRouter and a RedisRouter). The composition picks an implementation once:
 * `localRouter` below, or ClusterRouter (server/cluster/cluster-router.ts) when a cluster is
 * configured. HTTP and WebSocket code ask the router and never test for a cluster.
 *
 * Forwarding is described without Express or sockets of the HTTP layer: a ForwardRequest is
 * what another node needs to answer (method, path, the caller's credentials and address, a
 * body), a ForwardAnswer what it said (server/http/forwarding.ts converts both ways).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { FailureLimiter, type Limiter } from '../auth/failure-limiter.ts';
import type { StaffIdentity } from '../auth/identity.ts';
import type { SharedCodes } from '../session/join-codes.ts';
import type { CreatedSession, SessionRegistry } from '../session/registry.ts';

export interface ForwardRequest {
  method: string;
  /** The public path with its query, e.g. /api/sessions/abc/observers. */
  path: string;
  /** The caller's own headers that the other node checks again (authorization, accept). */
  headers: Record<string, string>;
  clientAddress: string;
  /** JSON text of the request body, when the route takes one. */
  body?: string;
  /** Bound on the answer's size (recordings ask for more than API answers). */
  maxBytes?: number;
}

export interface ForwardAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Another node, as far as routing is concerned: where to forward to. */
export interface RemoteNode {
  readonly id: string;
}

/** A participant attached to a session another node runs: its messages go there as they come. */
export interface RelayedParticipant {
  readonly session: string;
  /** The owner's end is watched by the same heartbeat as the participant's own socket (http/heartbeat.ts). */
  keepAlive(heartbeat: { watch(socket: WebSocket): void }): void;
  fromClient(data: RawData, binary: boolean): void;
}

export interface SessionRouter {
  /** This node's id in a cluster (listings say where each session runs); null on a single node. */
  readonly node: string | null;
  /** True once this node takes no new sessions (readiness goes down). */
  readonly draining: boolean;
  /** Starts a session where there is room: here, or on the node with the most headroom. */
  create(agent: StaffIdentity, url: string, policy: string | undefined): Promise<CreatedSession>;
  /** The live node other than this one that runs (with includeEnded: ran) a session; null: here or nowhere. */
  locate(sessionId: string, includeEnded?: boolean): Promise<RemoteNode | null>;
  /** Has a node (located, or named by id) answer a public request; NODE_UNAVAILABLE when it cannot. */
  forward(to: RemoteNode | string, req: ForwardRequest): Promise<ForwardAnswer>;
  /**
   * Streams a request to the node that runs its session and the answer back, neither held whole
   * (document handoff: uploads and downloads); `req` carries the headers the owner needs.
   */
  stream(to: RemoteNode, req: ForwardRequest, body: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Asks every other node in turn; the first answer that is not a 404, or null. */
  forwardToAny(req: ForwardRequest): Promise<ForwardAnswer | null>;
  /** Attaches a participant to a session another node runs; null when none does. */
  attach(client: WebSocket, sessionId: string, join: string, addr: string): Promise<RelayedParticipant | null>;
  /** Ends a session another node runs (authorized here); false when no other node runs it. */
  endElsewhere(sessionId: string, who: { sub: string; role: string }): Promise<boolean>;
  /** The sessions or recordings of every other node, asked with the caller's credentials. */
  listElsewhere(what: 'sessions' | 'recordings', req: ForwardRequest): Promise<{ items: Record<string, unknown>[]; unreachable: string[] }>;
  /** A single-use claim (an invite) that holds across nodes; always granted on a single node. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** A limiter whose counts every node shares; on a single node, `local` itself. */
  limiter(name: string, local?: FailureLimiter): Limiter;
  /** Join codes findable from every node; null on a single node (the codes stay in memory). */
  joinCodes(): SharedCodes | null;
  /** Stops taking sessions, waits up to the drain bound for running ones, ends the rest. */
  drain(): Promise<void>;
  /** Leaves: relayed participants are told to reconnect elsewhere. */
  close(): Promise<void>;
}

/** One node: every session is here, nothing is forwarded, every claim and limit is this process's. */
export function localRouter(registry: SessionRegistry, drainMs: number): SessionRouter {
  let draining = false;
  return {
    node: null,
    get draining() {
      return draining;
    },
    create: (agent, url, policy) => registry.create(agent, url, policy),
    locate: async () => null,
    forward: async () => {
      throw new Error('a single node forwards nothing');
    },
    stream: async () => {
      throw new Error('a single node streams nothing');
    },
    forwardToAny: async () => null,
    attach: async () => null,
    endElsewhere: async () => false,
    listElsewhere: async () => ({ items: [], unreachable: [] }),
    claimOnce: async () => true,
    limiter: (_name, local = new FailureLimiter()) => local,
    joinCodes: () => null,
    async drain() {
      draining = true;
      await registry.drain(drainMs);
    },
    close: async () => undefined,
  };
}
