/**
 * How busy the machine's CPUs are: one sampler for the whole process (os.cpus() every half
 * second), running only while some session listens. Every session's adaptive quality reads it.
 */
import { cpus } from 'node:os';

/** How often the CPUs are sampled (ms). */
export const CPU_SAMPLE_MS = 500;

type Listener = (busy: number) => void;

const listeners = new Set<Listener>();
let timer: NodeJS.Timeout | null = null;
let previous: { busy: number; total: number } | null = null;
let latest: number | null = null;

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

function sample(): void {
  const now = totals();
  if (previous && now.total > previous.total) {
    latest = Math.min(1, Math.max(0, (now.busy - previous.busy) / (now.total - previous.total)));
    for (const l of [...listeners]) l(latest);
  }
  previous = now;
}

/** Calls `listener` with the busy fraction after every sample; returns an unsubscribe. */
export function onCpuSample(listener: Listener): () => void {
  listeners.add(listener);
  if (!timer) {
    previous = totals();
    timer = setInterval(sample, CPU_SAMPLE_MS);
    timer.unref();
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
      previous = null;
      latest = null;
    }
  };
}
