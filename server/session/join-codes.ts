/**
 * Join codes of customer-started sessions: the six digits a customer reads to an agent, who
 * types them in the console to join. A code is bound to one waiting session, short-lived,
 * single-use, and never guessable at scale. The math (docs/SECURITY.md, "Join codes"):
 *
 * - 6 digits are 10^6 codes. A guess made while K codes are live hits one with probability
 *   K / 10^6 at most. Three bounds keep the number of guesses small:
 *   - per agent (staff subject): MAX_WRONG_PER_AGENT wrong codes per TTL window;
 *   - per address: MAX_WRONG_PER_ADDRESS wrong codes per TTL window;
 *   - globally: maxWrongGlobal wrong codes per TTL window from everyone together. Past it every
 *     claim is refused before any comparison, so a right code cannot slip through either.
 * - Per code: every wrong guess made while a code is live counts against it (a guess names no
 *   code, so it is a guess at all of them); after maxExposure wrong guesses the code is locked
 *   and its session ends. So a code is guessed with probability at most maxExposure / 10^6
 *   (20 / 10^6 = 0.002 % by default), however many agents or addresses an attacker holds.
 * - Over a day the expected number of codes guessed is at most
 *   (wrong guesses per day) × K / 10^6 ≤ (24 h / TTL × maxWrongGlobal) × K / 10^6, e.g.
 *   144 × 100 × 10 / 10^6 ≈ 0.14 with ten live codes and the defaults, and only for an attacker
 *   who holds many valid staff tokens, runs into the refusals all day, and leaves every wrong
 *   guess in the audit trail; the customer still sees the agent's name before consenting.
 *
 * Codes are compared in constant time against every live code (no early exit, no map lookup by
 * the guessed value). Codes never reach logs or the audit trail: a short hash stands in.
 *
 * Cluster mode (SharedCodes, server/cluster/shared-join-codes.ts): the codes stay in the memory
 * of the node that runs their session, which alone can spend them (so single use holds however
 * claims arrive); Redis holds an HMAC of each live code with its owner node, so a claim reaching
 * another node is forwarded to the owner over the signed hop. The three wrong-guess bounds are
 * counted in Redis (shared limiters), and every wrong guess anywhere increments one cluster-wide
 * counter: a code's exposure is that counter's growth since the code was issued, checked by the
 * owner before it gives a session away and on every sweep. While Redis is away each node
 * counts alone (the bounds then hold per node) and claims work only on the owner.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { FailureLimiter, type Limiter } from '../auth/failure-limiter.ts';
import { VitrineError } from '../errors.ts';

export const JOIN_CODE_DIGITS = 6;
export const MAX_WRONG_PER_AGENT = 5;
/** Loose: a call centre's agents often share one NAT address; the per-agent bound is the tight one. */
export const MAX_WRONG_PER_ADDRESS = 50;
export const DEFAULT_MAX_WRONG_GLOBAL = 100;
export const DEFAULT_MAX_EXPOSURE = 20;
/** Live codes at once; past it new customer-started sessions wait (the pool is the real bound). */
const MAX_LIVE = 5_000;

export type CodeEnd = 'expired' | 'locked';

/** The cluster's view of the codes (Redis); every method may throw while Redis is away. */
export interface SharedCodes {
  /** This node's id: a code recorded under it is spent here. */
  readonly self: string;
  /** Records a live code (hashed) as this node's; false when another node holds the same code. */
  put(code: string, ttlMs: number): Promise<boolean>;
  /** The node that holds a live code, or null. */
  owner(code: string): Promise<string | null>;
  drop(code: string): Promise<void>;
  /** Counts one wrong guess cluster-wide; the running total. */
  addWrong(): Promise<number>;
  wrongTotal(): Promise<number>;
}

export interface JoinCodeOptions {
  ttlMs: number;
  /** Cluster mode: codes findable from every node, and guesses counted cluster-wide. */
  shared?: SharedCodes;
  /** Cluster mode: wrong-guess limiters whose counts every node shares (default: this process's). */
  limiters?: { perAgent: Limiter; perAddress: Limiter; global: Limiter };
  maxWrongGlobal?: number;
  maxExposure?: number;
  /** A code ended unclaimed (expired or locked): its session is to end too. */
  onDead(sessionId: string, why: CodeEnd): void;
  now?: () => number;
}

interface Entry {
  code: Buffer;
  sessionId: string;
  expiresAt: number;
  wrong: number;
  /** Cluster-wide wrong guesses when the code was issued (0 in single mode). */
  wrongBase: number;
}

/** A claim's outcome: the session, or the node to forward the claim to (cluster mode). */
export type ClaimResult = { sessionId: string } | { forwardTo: string };

/** A short, non-reversible label for a code in logs and audit records (never the code). */
export function codeLabel(code: string): string {
  return createHash('sha256').update(`vitrine-join-code:${code}`).digest('hex').slice(0, 8);
}

export class JoinCodes {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: Required<Pick<JoinCodeOptions, 'ttlMs' | 'maxWrongGlobal' | 'maxExposure'>> & Pick<JoinCodeOptions, 'onDead' | 'shared'>;
  readonly #now: () => number;
  readonly #perAgent: Limiter;
  readonly #perAddress: Limiter;
  readonly #global: Limiter;
  #sweep: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: JoinCodeOptions) {
    this.#opts = {
      ttlMs: opts.ttlMs,
      maxWrongGlobal: opts.maxWrongGlobal ?? DEFAULT_MAX_WRONG_GLOBAL,
      maxExposure: opts.maxExposure ?? DEFAULT_MAX_EXPOSURE,
      onDead: opts.onDead,
      shared: opts.shared,
    };
    this.#now = opts.now ?? Date.now;
    const l = opts.limiters ?? JoinCodes.localLimiters(opts.ttlMs, this.#opts.maxWrongGlobal);
    this.#perAgent = l.perAgent;
    this.#perAddress = l.perAddress;
    this.#global = l.global;
  }

  /** The three bounds in this process; cluster mode wraps each in a shared limiter. */
  static localLimiters(ttlMs: number, maxWrongGlobal = DEFAULT_MAX_WRONG_GLOBAL): { perAgent: FailureLimiter; perAddress: FailureLimiter; global: FailureLimiter } {
    // The windows are the codes' lifetime: what counts is the guesses one code is exposed to.
    return {
      perAgent: new FailureLimiter({ max: MAX_WRONG_PER_AGENT, windowMs: ttlMs }),
      perAddress: new FailureLimiter({ max: MAX_WRONG_PER_ADDRESS, windowMs: ttlMs }),
      global: new FailureLimiter({ max: maxWrongGlobal, windowMs: ttlMs, maxKeys: 1 }),
    };
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A fresh code for a waiting session, unique among the live ones (cluster-wide in cluster mode). */
  async issue(sessionId: string): Promise<{ code: string; expiresAt: number }> {
    if (this.#closed) throw new VitrineError('SHUTTING_DOWN');
    if (this.#entries.size >= MAX_LIVE) throw new VitrineError('POOL_FULL', 'too many sessions are waiting for an agent; retry later');
    this.revoke(sessionId);
    const shared = this.#opts.shared;
    const wrongBase = shared ? await shared.wrongTotal().catch(() => 0) : 0;
    let code: string;
    for (let tries = 0; ; tries++) {
      do code = String(randomInt(0, 10 ** JOIN_CODE_DIGITS)).padStart(JOIN_CODE_DIGITS, '0');
      while (this.#entries.has(code));
      // Another node holding the same code would make claims ambiguous: draw again. Redis away: local only.
      if (!shared || tries >= 20 || (await shared.put(code, this.#opts.ttlMs).catch(() => true))) break;
    }
    if (this.#closed) throw new VitrineError('SHUTTING_DOWN');
    const expiresAt = this.#now() + this.#opts.ttlMs;
    this.#entries.set(code, { code: Buffer.from(code), sessionId, expiresAt, wrong: 0, wrongBase });
    // One sweep for all codes, only while there are codes: nothing keeps an idle process awake.
    this.#sweep ??= setInterval(() => this.#sweepNow(), Math.min(5_000, this.#opts.ttlMs / 4));
    this.#sweep.unref();
    return { code, expiresAt };
  }

  /**
   * The session id a right, live code is bound to; the code is spent. In cluster mode, a code
   * another node holds gives `forwardTo` (unless this claim was itself forwarded). Throws
   * RATE_LIMITED when the agent, the address or everyone together is over the wrong-guess bound
   * (checked before comparing anything), BAD_JOIN_CODE otherwise.
   */
  async claim(code: string, who: { sub: string; address: string; forwarded?: boolean }): Promise<ClaimResult> {
    this.expire();
    if (await this.#perAgent.blocked(who.sub)) throw new VitrineError('RATE_LIMITED', 'too many wrong codes from you; wait a few minutes');
    if (await this.#perAddress.blocked(who.address)) throw new VitrineError('RATE_LIMITED', 'too many wrong codes from this address; wait a few minutes');
    if (await this.#global.blocked('all')) throw new VitrineError('RATE_LIMITED', 'too many wrong codes were tried lately; wait a few minutes');
    const wellFormed = code.length === JOIN_CODE_DIGITS && /^[0-9]+$/.test(code);
    const guess = Buffer.from(code.padEnd(JOIN_CODE_DIGITS, ' ').slice(0, JOIN_CODE_DIGITS));
    let hit: Entry | null = null;
    // Every live code is compared, in constant time each, whatever matched before.
    for (const e of this.#entries.values()) {
      const same = timingSafeEqual(e.code, guess);
      if (same && wellFormed) hit = e;
    }
    const shared = this.#opts.shared;
    if (hit) {
      // Spent before any await: a second claim, from anywhere, finds nothing.
      this.#entries.delete(hit.code.toString());
      this.#idle();
      if (shared) {
        void shared.drop(code).catch(() => undefined);
        // Wrong guesses made on other nodes count against this code too.
        const total = await shared.wrongTotal().catch(() => null);
        if (total !== null && total - hit.wrongBase >= this.#opts.maxExposure) {
          this.#opts.onDead(hit.sessionId, 'locked');
          throw new VitrineError('BAD_JOIN_CODE');
        }
      }
      return { sessionId: hit.sessionId };
    }
    if (shared && wellFormed && !who.forwarded) {
      const owner = await shared.owner(code).catch(() => null);
      if (owner && owner !== shared.self) return { forwardTo: owner };
    }
    await Promise.all([this.#perAgent.fail(who.sub), this.#perAddress.fail(who.address), this.#global.fail('all')]);
    const total = shared ? await shared.addWrong().catch(() => null) : null;
    for (const e of [...this.#entries.values()]) {
      e.wrong++;
      if (this.#exposure(e, total) >= this.#opts.maxExposure) this.#kill(e, 'locked');
    }
    throw new VitrineError('BAD_JOIN_CODE');
  }

  /** Wrong guesses a live code has been exposed to: here, or anywhere in the cluster. */
  #exposure(e: Entry, clusterTotal: number | null): number {
    return Math.max(e.wrong, clusterTotal === null ? 0 : clusterTotal - e.wrongBase);
  }

  #sweepNow(): void {
    this.expire();
    const shared = this.#opts.shared;
    if (!shared || !this.#entries.size) return;
    // Guesses on other nodes lock codes here even if nobody claims them (their sessions end).
    void shared
      .wrongTotal()
      .then((total) => {
        for (const e of [...this.#entries.values()]) if (this.#exposure(e, total) >= this.#opts.maxExposure) this.#kill(e, 'locked');
        this.#idle();
      })
      .catch(() => undefined);
  }

  /** The session ended or its code is to be replaced: the code stops working. */
  revoke(sessionId: string): void {
    for (const [k, e] of this.#entries) {
      if (e.sessionId !== sessionId) continue;
      this.#entries.delete(k);
      void this.#opts.shared?.drop(k).catch(() => undefined);
    }
    this.#idle();
  }

  /** Ends codes past their time (also run by the sweep). */
  expire(now = this.#now()): void {
    for (const e of [...this.#entries.values()]) if (e.expiresAt <= now) this.#kill(e, 'expired');
    this.#idle();
  }

  #kill(e: Entry, why: CodeEnd): void {
    this.#entries.delete(e.code.toString());
    void this.#opts.shared?.drop(e.code.toString()).catch(() => undefined);
    this.#opts.onDead(e.sessionId, why);
  }

  #idle(): void {
    if (this.#entries.size === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  /** Forgets every code; the sessions are ended by the registry's own shutdown. */
  close(): void {
    this.#closed = true;
    this.#entries.clear();
    this.#idle();
  }
}
