/**
 * The cluster directory in Redis: which nodes are alive (a record per node with a TTL, renewed
 * by its heartbeat), which node owns each session, single-use claims, and a channel for small
 * control events. Frames and input never pass through Redis.
 *
 * Keys (prefix `vitrine:`):
 *   node:<id>            NodeLoad JSON, expires after the heartbeat TTL
 *   nodes                set of node ids ever registered and not yet reaped
 *   node-sessions:<id>   set of session ids the node owns
 *   session:<id>         SessionRecord JSON, expires with the session; once ended only a
 *                        tombstone is kept for a day (id, node, why), with nobody's identity
 *   lost:<id>            marker: the node was declared lost; if it is still running it must end
 *                        its sessions (fencing), because participants were already told
 *   reap:<id>            lock so that one node reaps a lost node
 *   once:<key>           single-use claims (invites)
 *   join:<hmac>          a live join code's owner node (HMAC-SHA256 of the code under the
 *                        cluster secret: Redis never holds a code), expiring with the code
 *   join-wrong           wrong join-code guesses cluster-wide (a running count)
 *   events               pub/sub channel of ClusterEvent
 */
import { Redis } from 'ioredis';
import type { EndReason } from '../protocol.ts';
import type { NodeLoad } from './placement.ts';
import { ClusterEventSchema, NodeLoadSchema, parseRecord, SessionRecordSchema, type ClusterEvent, type SessionRecord } from './records.ts';

export type { ClusterEvent, SessionRecord } from './records.ts';

const PREFIX = 'vitrine:';
const ENDED_RECORD_MS = 24 * 3600_000;
const CHANNEL = `${PREFIX}events`;

export interface DirectoryOptions {
  url: string;
  /** A node whose record is older than this is lost. */
  nodeTtlMs: number;
  onEvent(event: ClusterEvent): void;
  onReady(): void;
  onError(err: Error): void;
}

export class ClusterDirectory {
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #opts: DirectoryOptions;
  #closed = false;

  constructor(opts: DirectoryOptions) {
    this.#opts = opts;
    // Fail fast while Redis is away (callers fall back to local decisions) and keep retrying
    // the connection in the background; the node re-registers on every reconnection.
    const common = { connectTimeout: 2000, retryStrategy: (n: number) => Math.min(100 * n, 1000), lazyConnect: true } as const;
    this.#cmd = new Redis(opts.url, { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 2000 });
    this.#sub = new Redis(opts.url, { ...common, maxRetriesPerRequest: null, autoResubscribe: true });
    this.#cmd.on('ready', () => opts.onReady());
    for (const r of [this.#cmd, this.#sub]) r.on('error', (e: Error) => opts.onError(e));
    this.#sub.on('message', (channel: string, text: string) => {
      if (channel !== CHANNEL) return;
      const event = parseEvent(text);
      if (event) opts.onEvent(event);
    });
  }

  /** Connects both connections; resolves once subscribed. */
  async connect(): Promise<void> {
    await Promise.all([this.#cmd.connect(), this.#sub.connect()]);
    await this.#sub.subscribe(CHANNEL);
  }

  get connected(): boolean {
    return this.#cmd.status === 'ready';
  }

  async heartbeat(load: NodeLoad): Promise<void> {
    await this.#cmd.multi().set(`${PREFIX}node:${load.id}`, JSON.stringify(load), 'PX', this.#opts.nodeTtlMs).sadd(`${PREFIX}nodes`, load.id).exec();
  }

  async deregister(id: string): Promise<void> {
    await this.#cmd.multi().del(`${PREFIX}node:${id}`).srem(`${PREFIX}nodes`, id).del(`${PREFIX}node-sessions:${id}`).exec();
  }

  /** Nodes whose heartbeat is current. */
  async liveNodes(): Promise<NodeLoad[]> {
    const ids = await this.#cmd.smembers(`${PREFIX}nodes`);
    if (!ids.length) return [];
    const values = await this.#cmd.mget(ids.map((id) => `${PREFIX}node:${id}`));
    // A value that is not a node record (another version's, or not ours) is no node to use.
    return values.flatMap((v) => {
      const n = parseRecord(NodeLoadSchema, v);
      return n ? [n] : [];
    });
  }

  async node(id: string): Promise<NodeLoad | null> {
    const v = await this.#cmd.get(`${PREFIX}node:${id}`);
    return parseRecord(NodeLoadSchema, v);
  }

  async putSession(record: SessionRecord, ttlMs: number): Promise<void> {
    await this.#cmd
      .multi()
      .set(`${PREFIX}session:${record.id}`, JSON.stringify(record), 'PX', Math.max(1, Math.round(ttlMs)))
      .sadd(`${PREFIX}node-sessions:${record.node}`, record.id)
      .exec();
  }

  async session(id: string): Promise<SessionRecord | null> {
    const v = await this.#cmd.get(`${PREFIX}session:${id}`);
    return parseRecord(SessionRecordSchema, v);
  }

  /**
   * Replaces the record by a tombstone kept a day (late joins learn why; audit reads find the
   * node whose chain holds the records) and tells every node. The tombstone names nobody: who
   * ran the session is not kept once it has ended.
   */
  async endSession(id: string, reason: EndReason, owner: string): Promise<void> {
    const ended: SessionRecord = { id, node: owner, ended: { reason, at: Date.now() } };
    await this.#cmd
      .multi()
      .set(`${PREFIX}session:${id}`, JSON.stringify(ended), 'PX', ENDED_RECORD_MS)
      .srem(`${PREFIX}node-sessions:${owner}`, id)
      .publish(CHANNEL, JSON.stringify({ type: 'session-ended', session: id, reason, node: owner } satisfies ClusterEvent))
      .exec();
  }

  /**
   * Finds registered nodes whose heartbeat expired and ends their sessions; one reaper per lost
   * node wins a lock. Returns the nodes reaped by this call.
   */
  async reapLost(self: string): Promise<{ node: string; sessions: string[] }[]> {
    const ids = (await this.#cmd.smembers(`${PREFIX}nodes`)).filter((id) => id !== self);
    if (!ids.length) return [];
    // One round trip for all records, however many nodes there are.
    const records = await this.#cmd.mget(ids.map((id) => `${PREFIX}node:${id}`));
    const out: { node: string; sessions: string[] }[] = [];
    for (const [i, id] of ids.entries()) {
      if (records[i]) continue;
      const won = await this.#cmd.set(`${PREFIX}reap:${id}`, self, 'PX', this.#opts.nodeTtlMs * 2, 'NX');
      if (won !== 'OK') continue;
      const sessions = await this.#cmd.smembers(`${PREFIX}node-sessions:${id}`);
      for (const s of sessions) await this.endSession(s, 'node_lost', id);
      await this.#cmd
        .multi()
        .set(`${PREFIX}lost:${id}`, self, 'PX', ENDED_RECORD_MS)
        .srem(`${PREFIX}nodes`, id)
        .del(`${PREFIX}node-sessions:${id}`)
        .publish(CHANNEL, JSON.stringify({ type: 'node-lost', node: id, sessions: sessions.length, by: self } satisfies ClusterEvent))
        .exec();
      out.push({ node: id, sessions });
    }
    return out;
  }

  /** Asks the owning node to end a session (small control message, no state). */
  async requestEnd(session: string, owner: string, by: string): Promise<void> {
    await this.#cmd.publish(CHANNEL, JSON.stringify({ type: 'end-session', session, node: owner, by } satisfies ClusterEvent));
  }

  /** True when this node was declared lost (its participants were told its sessions ended). */
  async takeLostMarker(self: string): Promise<boolean> {
    return (await this.#cmd.del(`${PREFIX}lost:${self}`)) > 0;
  }

  /** True the first time `key` is claimed (within ttl), false afterwards. */
  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#cmd.set(`${PREFIX}once:${key}`, '1', 'PX', Math.max(1000, Math.round(ttlMs)), 'NX')) === 'OK';
  }

  /** Records a live join code's owner; false when the key exists (another node's code). */
  async putJoinCode(hash: string, node: string, ttlMs: number): Promise<boolean> {
    return (await this.#cmd.set(`${PREFIX}join:${hash}`, node, 'PX', Math.max(1000, Math.round(ttlMs)), 'NX')) === 'OK';
  }

  async joinCodeOwner(hash: string): Promise<string | null> {
    return this.#cmd.get(`${PREFIX}join:${hash}`);
  }

  /** Removes a code's record only if this node still owns it (a code drawn again elsewhere stays). */
  async dropJoinCode(hash: string, node: string): Promise<void> {
    await this.#cmd.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, `${PREFIX}join:${hash}`, node);
  }

  async addJoinWrong(): Promise<number> {
    return this.#cmd.incr(`${PREFIX}join-wrong`);
  }

  async joinWrong(): Promise<number> {
    return Number((await this.#cmd.get(`${PREFIX}join-wrong`)) ?? 0);
  }

  /** Sliding-window counter: adds one hit and returns the hits in the window (including it). */
  async hit(key: string, windowMs: number, now = Date.now()): Promise<number> {
    const k = `${PREFIX}limit:${key}`;
    const res = await this.#cmd
      .multi()
      .zremrangebyscore(k, 0, now - windowMs)
      .zadd(k, now, `${now}:${Math.random().toString(36).slice(2, 10)}`)
      .zcard(k)
      .pexpire(k, windowMs)
      .exec();
    return Number(res?.[2]?.[1] ?? 0);
  }

  /** Hits in the window, without adding one. */
  async count(key: string, windowMs: number, now = Date.now()): Promise<number> {
    const k = `${PREFIX}limit:${key}`;
    const res = await this.#cmd
      .multi()
      .zremrangebyscore(k, 0, now - windowMs)
      .zcard(k)
      .exec();
    return Number(res?.[1]?.[1] ?? 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cmd.disconnect();
    this.#sub.disconnect();
  }
}

function parseEvent(text: string): ClusterEvent | null {
  // Not JSON, or not one of ours: ignored.
  return parseRecord(ClusterEventSchema, text);
}
