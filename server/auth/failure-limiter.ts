/**
 * Counts events per key in a sliding window and says when a key went over its limit: bad tokens
 * per address (token guessing), session creations per agent (floods). Bounded memory: the
 * oldest keys are dropped.
 *
 * Bad credentials are counted per address, but an address is never a person: behind one NAT or a
 * proxy without VITRINE_TRUST_PROXY sit many agents and customers. So a credential is verified
 * first and a valid one is never refused because of the address's count (see failedAttempt):
 * only the failing attempts are slowed down and refused.
 */
/** What the API and the gateway need from a limiter; the cluster's is shared through Redis. */
export interface Limiter {
  blocked(key: string): boolean | Promise<boolean>;
  /** Counts one event; true when this one went past the limit (one round trip in Redis). */
  fail(key: string): boolean | Promise<boolean>;
}

/** How long a failing attempt from an address over its limit waits before it is answered. */
export const FLOODED_DELAY_MS = 500;
/** Failing attempts held for that delay at once; past it they are answered at once (bounded memory). */
export const MAX_DELAYED = 256;
let delayed = 0;

/**
 * A credential failed: counts it against the address, and resolves with whether this attempt is
 * to be refused as rate-limited (the address is over its limit) rather than with its own error.
 * Over the limit, the answer comes only after FLOODED_DELAY_MS, so a guesser gets slower answers
 * that say nothing about its guess, while everyone valid behind the address goes on unhindered.
 */
export async function failedAttempt(limiter: Limiter, key: string, delayMs = FLOODED_DELAY_MS): Promise<boolean> {
  const over = await limiter.fail(key);
  if (over && delayMs > 0 && delayed < MAX_DELAYED) {
    delayed++;
    try {
      await new Promise((r) => setTimeout(r, delayMs).unref());
    } finally {
      delayed--;
    }
  }
  return over;
}

export class FailureLimiter implements Limiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #failures = new Map<string, number[]>();

  static readonly DEFAULT_MAX = 20;
  static readonly DEFAULT_WINDOW_MS = 60_000;

  constructor(opts: { max?: number; windowMs?: number; maxKeys?: number } = {}) {
    this.#max = opts.max ?? FailureLimiter.DEFAULT_MAX;
    this.#windowMs = opts.windowMs ?? FailureLimiter.DEFAULT_WINDOW_MS;
    this.#maxKeys = opts.maxKeys ?? 10_000;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    if (list.length) this.#failures.set(key, list);
    else this.#failures.delete(key);
    return list;
  }

  get max(): number {
    return this.#max;
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  blocked(key: string, now = Date.now()): boolean {
    return this.#recent(key, now).length >= this.#max;
  }

  fail(key: string, now = Date.now()): boolean {
    const list = this.#recent(key, now);
    list.push(now);
    // A flooding key is counted on every attempt now: keeping the newest max+1 is enough to know
    // it is over (the window holds more than max exactly when their oldest is still in it).
    if (list.length > this.#max + 1) list.splice(0, list.length - this.#max - 1);
    this.#failures.delete(key);
    this.#failures.set(key, list);
    if (this.#failures.size > this.#maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    return list.length > this.#max;
  }
}
