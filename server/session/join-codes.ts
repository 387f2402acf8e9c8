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
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { FailureLimiter } from '../auth/failure-limiter.ts';
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

export interface JoinCodeOptions {
  ttlMs: number;
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
}

/** A short, non-reversible label for a code in logs and audit records (never the code). */
export function codeLabel(code: string): string {
  return createHash('sha256').update(`vitrine-join-code:${code}`).digest('hex').slice(0, 8);
}

export class JoinCodes {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: Required<Omit<JoinCodeOptions, 'onDead' | 'now'>> & Pick<JoinCodeOptions, 'onDead'>;
  readonly #now: () => number;
  readonly #perAgent: FailureLimiter;
  readonly #perAddress: FailureLimiter;
  readonly #global: FailureLimiter;
  #sweep: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: JoinCodeOptions) {
    this.#opts = { ttlMs: opts.ttlMs, maxWrongGlobal: opts.maxWrongGlobal ?? DEFAULT_MAX_WRONG_GLOBAL, maxExposure: opts.maxExposure ?? DEFAULT_MAX_EXPOSURE, onDead: opts.onDead };
    this.#now = opts.now ?? Date.now;
    // The windows are the codes' lifetime: what counts is the guesses one code is exposed to.
    this.#perAgent = new FailureLimiter({ max: MAX_WRONG_PER_AGENT, windowMs: opts.ttlMs });
    this.#perAddress = new FailureLimiter({ max: MAX_WRONG_PER_ADDRESS, windowMs: opts.ttlMs });
    this.#global = new FailureLimiter({ max: this.#opts.maxWrongGlobal, windowMs: opts.ttlMs, maxKeys: 1 });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A fresh code for a waiting session, unique among the live ones. */
  issue(sessionId: string): { code: string; expiresAt: number } {
    if (this.#closed) throw new VitrineError('SHUTTING_DOWN');
    if (this.#entries.size >= MAX_LIVE) throw new VitrineError('POOL_FULL', 'too many sessions are waiting for an agent; retry later');
    this.revoke(sessionId);
    let code: string;
    do code = String(randomInt(0, 10 ** JOIN_CODE_DIGITS)).padStart(JOIN_CODE_DIGITS, '0');
    while (this.#entries.has(code));
    const expiresAt = this.#now() + this.#opts.ttlMs;
    this.#entries.set(code, { code: Buffer.from(code), sessionId, expiresAt, wrong: 0 });
    // One sweep for all codes, only while there are codes: nothing keeps an idle process awake.
    this.#sweep ??= setInterval(() => this.expire(), Math.min(5_000, this.#opts.ttlMs / 4));
    this.#sweep.unref();
    return { code, expiresAt };
  }

  /**
   * The session id a right, live code is bound to; the code is spent. Throws RATE_LIMITED when
   * the agent, the address or everyone together is over the wrong-guess bound (checked before
   * comparing anything), BAD_JOIN_CODE otherwise.
   */
  claim(code: string, who: { sub: string; address: string }): { sessionId: string } {
    this.expire();
    if (this.#perAgent.blocked(who.sub)) throw new VitrineError('RATE_LIMITED', 'too many wrong codes from you; wait a few minutes');
    if (this.#perAddress.blocked(who.address)) throw new VitrineError('RATE_LIMITED', 'too many wrong codes from this address; wait a few minutes');
    if (this.#global.blocked('all')) throw new VitrineError('RATE_LIMITED', 'too many wrong codes were tried lately; wait a few minutes');
    const guess = Buffer.from(code.padEnd(JOIN_CODE_DIGITS, ' ').slice(0, JOIN_CODE_DIGITS));
    let hit: Entry | null = null;
    // Every live code is compared, in constant time each, whatever matched before.
    for (const e of this.#entries.values()) {
      const same = timingSafeEqual(e.code, guess);
      if (same && code.length === JOIN_CODE_DIGITS) hit = e;
    }
    if (hit) {
      this.#entries.delete(hit.code.toString());
      return { sessionId: hit.sessionId };
    }
    this.#perAgent.fail(who.sub);
    this.#perAddress.fail(who.address);
    this.#global.fail('all');
    for (const e of [...this.#entries.values()]) {
      e.wrong++;
      if (e.wrong >= this.#opts.maxExposure) this.#kill(e, 'locked');
    }
    throw new VitrineError('BAD_JOIN_CODE');
  }

  /** The session ended or its code is to be replaced: the code stops working. */
  revoke(sessionId: string): void {
    for (const [k, e] of this.#entries) if (e.sessionId === sessionId) this.#entries.delete(k);
    this.#idle();
  }

  /** Ends codes past their time (also run by the sweep). */
  expire(now = this.#now()): void {
    for (const e of [...this.#entries.values()]) if (e.expiresAt <= now) this.#kill(e, 'expired');
    this.#idle();
  }

  #kill(e: Entry, why: CodeEnd): void {
    this.#entries.delete(e.code.toString());
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
