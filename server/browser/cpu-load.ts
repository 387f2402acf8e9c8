/**
 * How busy the machine's CPUs are: os.cpus() every half second, running only while some session
 * listens. Every session's adaptive quality reads it.
 */
import { cpus } from 'node:os';

/** How often the CPUs are sampled (ms). */
export const CPU_SAMPLE_MS = 500;

type Listener = (busy: number) => void;

function totals(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/** One per server (compose()): the machine's CPUs are one, whatever number of sessions reads them. */
export class CpuSampler {
  readonly #listeners = new Set<Listener>();
  #timer: NodeJS.Timeout | null = null;
  #previous: { busy: number; total: number } | null = null;

  #sample(): void {
    const now = totals();
    const before = this.#previous;
    this.#previous = now;
    if (!before || now.total <= before.total) return;
    const busy = Math.min(1, Math.max(0, (now.busy - before.busy) / (now.total - before.total)));
    for (const l of [...this.#listeners]) l(busy);
  }

  /** Calls `listener` with the busy fraction after every sample; returns an unsubscribe. */
  onSample(listener: Listener): () => void {
    this.#listeners.add(listener);
    if (!this.#timer) {
      this.#previous = totals();
      this.#timer = setInterval(() => this.#sample(), CPU_SAMPLE_MS);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.close();
    };
  }

  /** Stops sampling (it starts again with the next listener). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#previous = null;
  }
}
