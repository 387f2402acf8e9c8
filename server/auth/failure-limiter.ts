/**
 * Counts events per key in a sliding window and says when a key went over its limit: bad tokens
 * per address (token guessing), session creations per agent (floods). Bounded memory: the
 * oldest keys are dropped.
 */
/** What the API and the gateway need from a limiter; the cluster's is shared through Redis. */
export interface Limiter {
  blocked(key: string): boolean | Promise<boolean>;
  fail(key: string): void | Promise<void>;
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

  fail(key: string, now = Date.now()): void {
    const list = this.#recent(key, now);
    list.push(now);
    this.#failures.delete(key);
    this.#failures.set(key, list);
    if (this.#failures.size > this.#maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }
}
