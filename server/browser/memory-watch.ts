/**
 * A session's memory budget (VITRINE_SESSION_MEMORY_MB), watched from the browser: once a second
 * the session page's renderer is asked what its page holds (`Runtime.getHeapUsage`: the JS heap,
 * Blink's garbage-collected heap with the DOM, and array-buffer and external-string backing
 * stores). A page over its budget ends its session with `page_memory`, and closing the session
 * destroys its context and frees the renderer, long before one page can take the machine (4 GB
 * measured before this existed). A renderer busy allocating in a loop answers no probe; the
 * per-renderer V8 heap cap (launch.ts, RENDERER_HEAP_MB) and the liveness probe cover it, and a
 * crash after a sample near the budget is reported as memory, not as a crash (see `suspect`).
 */
import type { CDPSession } from 'puppeteer-core';

export interface MemorySample {
  /** Bytes the page holds: JS heap used + embedder (DOM) heap used + backing stores. */
  bytes: number;
  at: number;
}

export interface MemoryWatchOptions {
  budgetBytes: number;
  intervalMs?: number;
  /** The page holds more than its budget; called once. */
  exceeded(sample: MemorySample): void;
}

/** A probe never waits longer than this: a busy renderer answers nothing (liveness covers it). */
const PROBE_MS = 1500;

export class MemoryWatch {
  readonly #cdp: CDPSession;
  readonly #opts: MemoryWatchOptions;
  #timer: NodeJS.Timeout | null = null;
  #pending = false;
  #fired = false;
  #last: MemorySample | null = null;
  #peak = 0;

  constructor(cdp: CDPSession, opts: MemoryWatchOptions) {
    this.#cdp = cdp;
    this.#opts = opts;
  }

  get last(): MemorySample | null {
    return this.#last;
  }

  /** The largest sample seen, in bytes (for tests and the log). */
  get peak(): number {
    return this.#peak;
  }

  /**
   * Whether a renderer crash is most likely this page running out of memory: its last answer
   * was past half its budget (allocation that fast outruns a 1 s probe, and the V8 heap cap or
   * the system then kill the renderer before the next answer).
   */
  suspect(): boolean {
    return this.#fired || (this.#last !== null && this.#last.bytes >= this.#opts.budgetBytes / 2);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#probe(), this.#opts.intervalMs ?? 1000);
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    if (this.#pending || this.#fired) return;
    this.#pending = true;
    try {
      const r = await Promise.race([this.#cdp.send('Runtime.getHeapUsage'), new Promise<null>((res) => setTimeout(() => res(null), PROBE_MS).unref())]);
      if (!r || !this.#timer) return;
      const bytes = r.usedSize + (r.embedderHeapUsedSize ?? 0) + (r.backingStorageSize ?? 0);
      this.#last = { bytes, at: Date.now() };
      this.#peak = Math.max(this.#peak, bytes);
      if (bytes > this.#opts.budgetBytes) {
        this.#fired = true;
        this.close();
        this.#opts.exceeded(this.#last);
      }
    } catch {
      // Between documents, or the target is gone: the next probe (or the crash handler) decides.
    } finally {
      this.#pending = false;
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
