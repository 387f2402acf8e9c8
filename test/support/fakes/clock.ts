/**
 * A clock that moves only when the test says so (the Clock port of server/core/ports.ts): the
 * session's invite expiry, idle and duration limits, grace periods and banners run in
 * microseconds of real time, and "nothing happens for a minute" needs no sleep.
 */
import type { Clock, TimerHandle } from '../../../server/core/ports.ts';

interface Pending {
  handle: TimerHandle;
  at: number;
  fn: () => void;
  every: number | null;
  seq: number;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #pending = new Map<TimerHandle, Pending>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, Math.max(0, ms), null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, Math.max(1, ms), Math.max(1, ms));
  }

  clear(handle: TimerHandle | null | undefined): void {
    if (handle) this.#pending.delete(handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.setTimeout(r, ms));
  }

  /** Timers not yet fired or cleared (an ended session leaves none). */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way in order, and
   * letting the promise work each one starts settle before the next fires.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      const next = [...this.#pending.values()].filter((p) => p.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#now = Math.max(this.#now, next.at);
      if (next.every === null) this.#pending.delete(next.handle);
      else next.at += next.every;
      next.fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }

  #add(fn: () => void, ms: number, every: number | null): TimerHandle {
    const handle: TimerHandle = { id: ++this.#seq };
    this.#pending.set(handle, { handle, at: this.#now + ms, fn, every, seq: this.#seq });
    return handle;
  }
}

/** Lets queued promise callbacks (and what they queue in turn) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
