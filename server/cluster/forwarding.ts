/**
 * Reaching sessions that live on another node, over the signed internal hop: where a session is
 * (from the directory), participants relayed to its owner, public API requests answered by the
 * owner (whole, or streamed for document handoff), requests tried on every node (recordings live
 * where they were recorded) and lists gathered from all of them. Transport only: which request to
 * forward is decided by the HTTP layer (server/http/forwarding.ts); nothing here knows Express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { CloseCodes, VitrineError } from '../errors.ts';
import type { EndReason } from '../protocol.ts';
import type { ForwardRequest, RemoteNode } from '../routing/session-router.ts';
import type { ClusterDirectory } from './directory.ts';
import type { HopClient, HopResponse } from './hop-client.ts';
import type { NodeLoad } from './placement.ts';
import { Relay } from './relay.ts';

export type Route = { kind: 'local' } | { kind: 'remote'; node: NodeLoad } | { kind: 'ended'; reason: EndReason } | { kind: 'unknown' };

export interface ForwardingDeps {
  self: string;
  directory: Pick<ClusterDirectory, 'session' | 'node' | 'liveNodes'>;
  hop: Pick<HopClient, 'request' | 'pipe' | 'openSocket'>;
  /** True when the session runs in this process (the registry has it). */
  isHere(sessionId: string): boolean;
  heartbeatMs: number;
  nodeTtlMs: number;
  onDirectoryError(err: unknown): void;
}

export class Forwarding {
  readonly #deps: ForwardingDeps;
  readonly #relays = new Map<string, Set<Relay>>();
  #closed = false;

  constructor(deps: ForwardingDeps) {
    this.#deps = deps;
  }

  /** Where a session lives, as far as this node can tell. */
  async route(sessionId: string): Promise<Route> {
    const { directory, self } = this.#deps;
    if (this.#deps.isHere(sessionId)) return { kind: 'local' };
    let record;
    try {
      record = await directory.session(sessionId);
    } catch (e) {
      this.#deps.onDirectoryError(e);
      return { kind: 'unknown' };
    }
    if (!record) return { kind: 'unknown' };
    if (record.ended) return { kind: 'ended', reason: record.ended.reason };
    if (record.node === self) return { kind: 'unknown' };
    const node = await directory.node(record.node).catch(() => null);
    // Its heartbeat lapsed: the reaper is about to end its sessions, if it has not yet.
    if (!node) return { kind: 'ended', reason: 'node_lost' };
    return { kind: 'remote', node };
  }

  /** The live node other than this one that owns (or, with includeEnded, owned) a session. */
  async owner(sessionId: string, includeEnded = false): Promise<NodeLoad | null> {
    if (includeEnded) {
      const record = await this.#deps.directory.session(sessionId).catch(() => null);
      if (!record || record.node === this.#deps.self) return null;
      return this.#deps.directory.node(record.node).catch(() => null);
    }
    const route = await this.route(sessionId);
    return route.kind === 'remote' ? route.node : null;
  }

  // --- participants ------------------------------------------------------------------------

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
    relay.attach(this.#deps.hop.openSocket(route.node.advertise, addr), join);
    return relay;
  }

  get relayCount(): number {
    let n = 0;
    for (const set of this.#relays.values()) n += set.size;
    return n;
  }

  /** A session ended (the directory said so): a lost owner cannot tell its participants, so this node does. */
  sessionEnded(sessionId: string, reason: EndReason): void {
    // Normal ends reach participants from the owner itself.
    if (reason === 'node_lost') for (const r of [...(this.#relays.get(sessionId) ?? [])]) r.end('node_lost');
  }

  /** The owner's socket broke: wait for the directory to say whether the session ended. */
  async #settleLost(relay: Relay): Promise<void> {
    const { nodeTtlMs, heartbeatMs } = this.#deps;
    const deadline = Date.now() + nodeTtlMs + 2 * heartbeatMs;
    while (Date.now() < deadline && !this.#closed) {
      const route = await this.route(relay.session);
      if (route.kind === 'ended') return relay.end(route.reason);
      await new Promise((r) => setTimeout(r, Math.min(500, heartbeatMs)));
    }
    // The owner is alive but this hop broke: the participant reconnects and gets a fresh one.
    relay.close(CloseCodes.RECONNECT, 'lost the connection to the session; reconnect');
  }

  // --- requests ----------------------------------------------------------------------------

  /**
   * Has one node answer a public API request: the node a session was located on, or one named
   * by id (a join code claim goes to the node holding the code). NODE_UNAVAILABLE when it cannot.
   */
  async forward(to: NodeLoad | RemoteNode | string, req: ForwardRequest): Promise<HopResponse> {
    const node = await this.#resolve(to);
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
    const node = await this.#resolve(to);
    try {
      await this.#deps.hop.pipe(node.advertise, body, res, `/internal${req.path}`, { headers: req.headers, clientAddress: req.clientAddress });
    } catch {
      throw new VitrineError('NODE_UNAVAILABLE');
    }
  }

  /**
   * Asks every other live node in turn (recordings live on the node that recorded them); the
   * first answer that is not a 404, or null when no node had it.
   */
  async forwardToAny(req: ForwardRequest): Promise<HopResponse | null> {
    for (const node of await this.#others()) {
      const answer = await this.#ask(node, req).catch(() => null);
      if (!answer || answer.status === 404) continue;
      return answer;
    }
    return null;
  }

  /** A list (sessions, recordings) from every other live node, asked with the caller's own credentials. */
  async remoteList(what: 'sessions' | 'recordings', req: ForwardRequest): Promise<{ items: Record<string, unknown>[]; unreachable: string[] }> {
    const items: Record<string, unknown>[] = [];
    const unreachable: string[] = [];
    await Promise.all(
      (await this.#others()).map(async (n) => {
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

  /** A located node as it is, or the live record of one named by id; NODE_UNAVAILABLE when none. */
  async #resolve(to: NodeLoad | RemoteNode | string): Promise<NodeLoad> {
    const node = typeof to !== 'string' && 'advertise' in to ? to : await this.#deps.directory.node(typeof to === 'string' ? to : to.id).catch(() => null);
    if (!node) throw new VitrineError('NODE_UNAVAILABLE');
    return node;
  }

  async #others(): Promise<NodeLoad[]> {
    return (await this.#deps.directory.liveNodes().catch(() => [] as NodeLoad[])).filter((n) => n.id !== this.#deps.self);
  }

  #ask(node: NodeLoad, req: ForwardRequest, timeoutMs = 30_000): Promise<HopResponse> {
    return this.#deps.hop.request(node.advertise, req.method, `/internal${req.path}`, {
      headers: req.body !== undefined ? { ...req.headers, 'content-type': 'application/json' } : req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      clientAddress: req.clientAddress,
      timeoutMs,
      ...(req.maxBytes ? { maxBytes: req.maxBytes } : {}),
    });
  }

  /** This node is leaving: relayed participants are told to reconnect (to another node). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const set of this.#relays.values()) for (const r of [...set]) r.close(CloseCodes.RECONNECT, 'this node is shutting down; reconnect');
  }
}
