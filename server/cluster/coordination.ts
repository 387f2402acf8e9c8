/**
 * What the nodes decide together through the directory: ending a session another node runs,
 * single-use claims (invites), limiters whose counts every node shares, and join codes findable
 * from every node. Each falls back to this node alone while Redis is away (claims are granted,
 * the owner still checks; limits count per node), so an outage never stops the service.
 */
import { FailureLimiter, type Limiter } from '../auth/failure-limiter.ts';
import { mayEnd } from '../auth/staff-permissions.ts';
import { VitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SessionRegistry } from '../session/registry.ts';
import type { ClusterDirectory } from './directory.ts';
import { SharedJoinCodes, type JoinCodeRecords } from './shared-join-codes.ts';
import { SharedLimiter, type LimitCounts } from './shared-limiter.ts';

/** How long an end request waits for the owner's confirmation. */
const END_REQUEST_TIMEOUT_MS = 10_000;

export interface CoordinationDeps {
  self: string;
  /** The cluster secret: join codes are kept in Redis as an HMAC under it. */
  secret: string;
  directory: Pick<ClusterDirectory, 'session' | 'requestEnd' | 'claimOnce'> & LimitCounts & JoinCodeRecords;
  registry: Pick<SessionRegistry, 'get'>;
  log: Logger;
  onDirectoryError(err: unknown): void;
}

export class Coordination {
  readonly #deps: CoordinationDeps;
  /** End requests this node sent, waiting for the owner's session-ended event. */
  readonly #endWaiters = new Map<string, Set<() => void>>();

  constructor(deps: CoordinationDeps) {
    this.#deps = deps;
  }

  /**
   * DELETE /api/sessions/:id for a session another node owns: authorized here from the
   * directory (who started it), sent to the owner through Redis, answered once it has ended.
   * False when the directory knows no such live session elsewhere.
   */
  async endElsewhere(sessionId: string, who: { sub: string; role: string }): Promise<boolean> {
    const { directory, self } = this.#deps;
    const record = await directory.session(sessionId).catch((e) => {
      this.#deps.onDirectoryError(e);
      return null;
    });
    if (!record || record.ended || record.node === self) return false;
    if (!mayEnd(who, record.agent.sub)) throw new VitrineError('FORBIDDEN', 'only the agent who started the session, or a supervisor, may end it');
    const ended = new Promise<boolean>((resolve) => {
      const done = () => resolve(true);
      let set = this.#endWaiters.get(sessionId);
      if (!set) this.#endWaiters.set(sessionId, (set = new Set()));
      set.add(done);
      setTimeout(() => resolve(false), END_REQUEST_TIMEOUT_MS).unref();
    }).finally(() => this.#endWaiters.delete(sessionId));
    await directory.requestEnd(sessionId, record.node, who.sub);
    if (!(await ended)) throw new VitrineError('NODE_UNAVAILABLE', 'the node running this session did not confirm the end; retry');
    return true;
  }

  /** The directory said a session ended: end requests waiting for it are answered. */
  sessionEnded(sessionId: string): void {
    for (const done of this.#endWaiters.get(sessionId) ?? []) done();
  }

  /** Another node asked for the end of a session (authorized there): ends it if it runs here. */
  endRequested(e: { session: string; node: string; by: string }): void {
    if (e.node !== this.#deps.self) return;
    const s = this.#deps.registry.get(e.session);
    if (!s) return;
    this.#deps.log.info({ session: e.session, by: e.by }, 'session ended at the request of another node');
    void s.end('deleted');
  }

  /** A single-use claim shared by all nodes; true when Redis is away (the owner still checks). */
  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    try {
      return await this.#deps.directory.claimOnce(key, ttlMs);
    } catch (e) {
      this.#deps.onDirectoryError(e);
      return true;
    }
  }

  /** Limiters whose counts every node shares. */
  limiter(name: string, local: FailureLimiter = new FailureLimiter()): Limiter {
    return new SharedLimiter(name, this.#deps.directory, local, (e) => this.#deps.onDirectoryError(e));
  }

  /** Join codes findable from every node (hashed in Redis, held by the owner). */
  joinCodes(): SharedJoinCodes {
    return new SharedJoinCodes(this.#deps.self, this.#deps.directory, this.#deps.secret);
  }
}
