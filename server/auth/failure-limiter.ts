/**
 * Counts events per key in a sliding window and says when a key went over its limit: bad tokens
 * per address (token guessing), session creations per agent (floods). Bounded memory: the
 * oldest keys are dropped.
 */
export class FailureLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #failures = new Map<string, number[]>();

  constructor(opts: { max?: number; windowMs?: number; maxKeys?: number } = {}) {
    this.#max = opts.max ?? 20;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxKeys = opts.maxKeys ?? 10_000;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    if (list.length) this.#failures.set(key, list);
    else this.#failures.delete(key);
    return list;
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
